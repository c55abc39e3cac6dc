export { EnvelopeExceptionFilter } from './exception.filter.js';
export { installEnvelope } from './envelope.hook.js';
export { createValidationPipe } from './validation.pipe.js';
export { requestIdFor } from './request-id.js';
export { currentRequestId, installRequestContext, withRequestId } from './request-context.js';
export { toErrorResponse } from './error-response.js';
export { Compressed, COMPRESSED_ROUTE } from './compressed.decorator.js';
export { API_SECURITY_HEADERS, DOCS_SECURITY_HEADERS } from './security-headers.js';
export { DEFAULT_PAGE_SIZE, MAX_INT, PageQuery, idCursor, parseId } from './pagination.js';
