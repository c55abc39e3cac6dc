export { AuditModule } from './audit.module.js';
export {
  AuditLog,
  recordAudit,
  type AuditAction,
  type AuditRecord,
  type AuditSnapshot,
} from './audit.log.js';
export { AuditEntry } from './audit-entry.entity.js';
