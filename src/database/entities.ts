import { AuditEvent } from '../audit/audit-event.entity';
import { Instance } from '../instances/instance.entity';
import { InstanceKey } from '../instance-keys/instance-key.entity';

/** Every entity, registered explicitly so the same list serves the app, the CLIs and the tests. */
export const ENTITIES = [Instance, AuditEvent, InstanceKey];
