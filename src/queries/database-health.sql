-- Written by src/queries/queries.spec.ts from database-health.ts: do not edit by hand.

-- ping
SELECT 1;
