import { AuditEvent } from './audit/audit-event.entity';
import { Instance } from './instances/instance.entity';

/** Every entity, registered explicitly so the same list serves the app, the CLIs and the tests. */
export const ENTITIES = [Instance, AuditEvent];
