import { CreateInstancesAndAuditEvents1795815113141 } from './1795815113141-CreateInstancesAndAuditEvents';
import { CreateMicaDevelopersAndKeys1795815838289 } from './1795815838289-CreateMicaDevelopersAndKeys';
import { CreateMicaRegister1795815862779 } from './1795815862779-CreateMicaRegister';
import { CreateInstanceKeys1795815896358 } from './1795815896358-CreateInstanceKeys';
import { AddCanonicalEmail1796000000000 } from './1796000000000-AddCanonicalEmail';
import { IndexUnownedAuditEvents1796000000001 } from './1796000000001-IndexUnownedAuditEvents';
import { AddKeyRestrictions1796100000000 } from './1796100000000-AddKeyRestrictions';
import { CreateIdempotencyRecords1796100000001 } from './1796100000001-CreateIdempotencyRecords';
import { CreateKeyUsageHourly1796100000002 } from './1796100000002-CreateKeyUsageHourly';
import { CreateWebhooks1796200000000 } from './1796200000000-CreateWebhooks';
import { CreateOperatorTokens1796300000000 } from './1796300000000-CreateOperatorTokens';
import { AddContainmentAndAccountStatus1796400000000 } from './1796400000000-AddContainmentAndAccountStatus';

/** Every migration, oldest first, one per line: `npm run migration:create -- VerbNoun` adds the next one here. */
export const MIGRATIONS = [
  CreateInstancesAndAuditEvents1795815113141,
  CreateMicaDevelopersAndKeys1795815838289,
  CreateMicaRegister1795815862779,
  CreateInstanceKeys1795815896358,
  AddCanonicalEmail1796000000000,
  IndexUnownedAuditEvents1796000000001,
  AddKeyRestrictions1796100000000,
  CreateIdempotencyRecords1796100000001,
  CreateKeyUsageHourly1796100000002,
  CreateWebhooks1796200000000,
  CreateOperatorTokens1796300000000,
  AddContainmentAndAccountStatus1796400000000,
];
