export { ModerationModule } from './moderation.module.js';
export { ContentSecurity } from './content-security.service.js';
export type { ContentDecision, FlagTarget } from './content-security.service.js';
export { ContentFlag } from './content-flag.entity.js';
export type { ContentKind, FlagReason } from './content-flag.entity.js';
