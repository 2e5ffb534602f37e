import { CreateInstancesAndAuditEvents1795815113141 } from './1795815113141-CreateInstancesAndAuditEvents';
import { CreateMicaDevelopersAndKeys1795815838289 } from './1795815838289-CreateMicaDevelopersAndKeys';
import { CreateMicaRegister1795815862779 } from './1795815862779-CreateMicaRegister';
import { CreateInstanceKeys1795815896358 } from './1795815896358-CreateInstanceKeys';
import { CreateWebhooks1796200000000 } from './1796200000000-CreateWebhooks';

/** Every migration, oldest first. A new migration is written by hand and added here. */
export const MIGRATIONS = [CreateInstancesAndAuditEvents1795815113141, CreateMicaDevelopersAndKeys1795815838289, CreateMicaRegister1795815862779, CreateInstanceKeys1795815896358, CreateWebhooks1796200000000];
