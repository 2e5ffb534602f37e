-- Written by src/queries/queries.spec.ts from idempotency.repository.ts: do not edit by hand.

-- claim
INSERT INTO idempotency_records AS r (id, fingerprint, state, claim, expires_at)
VALUES ($1, $2, 'in_progress', $3, now() + $4::int * interval '1 hour')
ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, state = 'in_progress', claim = EXCLUDED.claim,
       claimed_at = now(), status_code = NULL, sealed = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
 WHERE r.expires_at <= now()
    OR (r.state = 'in_progress' AND r.fingerprint = EXCLUDED.fingerprint AND r.claimed_at <= now() - $5::int * interval '1 millisecond')
RETURNING claim;

-- live
SELECT fingerprint, state, status_code AS "statusCode", sealed FROM idempotency_records WHERE id = $1 AND expires_at > now();

-- complete
UPDATE idempotency_records SET state = 'done', status_code = $3, sealed = $4 WHERE id = $1 AND claim = $2;

-- release
DELETE FROM idempotency_records WHERE id = $1 AND claim = $2 AND state = 'in_progress';

-- prune
DELETE FROM idempotency_records WHERE expires_at <= now();
