import { AuditEvent } from './audit/audit-event.entity';
import { Instance } from './instances/instance.entity';
import { InstanceKey } from './instance-keys/instance-key.entity';
import { MicaDeveloper } from './mica/accounts/mica-developer.entity';
import { MicaKey } from './mica/accounts/mica-key.entity';

/** Every entity, registered explicitly so the same list serves the app, the CLIs and the tests. */
export const ENTITIES = [Instance, AuditEvent, InstanceKey, MicaDeveloper, MicaKey];
