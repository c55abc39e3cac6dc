export { EnvelopeExceptionFilter, sendError } from './exception.filter.js';
export { installEnvelope } from './envelope.hook.js';
export { acceptWellFormed, createValidationPipe, isIntUpTo } from './validation.pipe.js';
export { requestIdFor, REQUEST_ID_PATTERN } from './request-id.js';
export {
  callTimeout,
  currentRequestId,
  installRequestContext,
  remainingBudgetMs,
  withoutBudget,
  withRequestId,
  type CallTimeout,
  type RequestBudgets,
} from './request-context.js';
export { Budget, BUDGET_ROUTE, type BudgetName } from './budget.decorator.js';
export { toErrorResponse } from './error-response.js';
export { Compressed, COMPRESSED_ROUTE } from './compressed.decorator.js';
export { installLeanRoutes, Lean } from './lean-route.js';
export {
  API_SECURITY_HEADERS,
  CONSOLE_SECURITY_HEADERS,
  DOCS_SECURITY_HEADERS,
} from './security-headers.js';
export {
  DEFAULT_PAGE_SIZE,
  ID_PATTERN,
  MAX_INT,
  PageQuery,
  idCursor,
  parseId,
} from './pagination.js';
export { apiView, apiViews, intColumn, isoTime, pageOf, rowId } from './api-view.js';
export { ApiAnswer, API_ANSWERS, type ApiAnswerMeta } from './api-answer.decorator.js';
export { IsSendableText, isSendableText } from './sendable-text.decorator.js';
export {
  jsonBodyParser,
  nestsDeeperThan,
  rawXmlBodyParser,
  MAX_JSON_DEPTH,
} from './json-body.parser.js';
export { installMethodNotAllowed } from './method-not-allowed.js';
export { onClientError, onFrameworkError, onUnmetExpectation, routableUrl } from './edge-errors.js';
export { RawBody, RAW_BODY_ROUTE } from './raw-body.js';
