-- Written by src/queries/queries.spec.ts from instance-key.repository.ts: do not edit by hand.

-- instanceByRef
SELECT id, ref, status, services FROM instances WHERE ref = $1;

-- instanceById
SELECT id, ref, status, services FROM instances WHERE id = $1;

-- lockInstanceByRef
SELECT id, ref, status, services FROM instances WHERE ref = $1 FOR UPDATE;

-- lockInstanceById
SELECT id, ref, status, services FROM instances WHERE id = $1 FOR UPDATE;

-- key
SELECT k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2;

-- lockKey
SELECT k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2 FOR UPDATE;

-- count
SELECT count(*)::int AS total FROM instance_keys k WHERE k.instance_id = $1 AND ($2::text IS NULL OR (CASE
    WHEN k.status = 'REVOKED' THEN 'REVOKED'
    WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'EXPIRED'
    WHEN k.status = 'PAUSED' AND k.paused_until IS NOT NULL AND k.paused_until <= now() THEN 'ACTIVE'
    ELSE k.status END) = $2);

-- page
SELECT k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now FROM instance_keys k WHERE k.instance_id = $1 AND ($2::text IS NULL OR (CASE
    WHEN k.status = 'REVOKED' THEN 'REVOKED'
    WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'EXPIRED'
    WHEN k.status = 'PAUSED' AND k.paused_until IS NOT NULL AND k.paused_until <= now() THEN 'ACTIVE'
    ELSE k.status END) = $2)
 ORDER BY k.created_at DESC, k.id DESC LIMIT $3 OFFSET $4;

-- countInStatuses
SELECT count(*)::int AS n FROM instance_keys k WHERE k.instance_id = $1 AND (CASE
    WHEN k.status = 'REVOKED' THEN 'REVOKED'
    WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'EXPIRED'
    WHEN k.status = 'PAUSED' AND k.paused_until IS NOT NULL AND k.paused_until <= now() THEN 'ACTIVE'
    ELSE k.status END) = ANY($2::text[]);

-- insert
INSERT INTO instance_keys AS k (instance_id, name, key_digest, key_prefix, key_hint, expires_at, replaces_key_id, services, allowed_cidrs, rate_limit_per_minute, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp())
RETURNING k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now;

-- update
UPDATE instance_keys AS k SET name = $2, services = $3, allowed_cidrs = $4, rate_limit_per_minute = $5 WHERE k.id = $1 RETURNING k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now;

-- beginOverlap
UPDATE instance_keys k SET status = 'PENDING_ROTATION', rotated_at = now(), paused_until = NULL,
       expires_at = LEAST(COALESCE(k.expires_at, 'infinity'::timestamptz), now() + $2::int * interval '1 second')
 WHERE k.id = $1 AND (CASE
    WHEN k.status = 'REVOKED' THEN 'REVOKED'
    WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'EXPIRED'
    WHEN k.status = 'PAUSED' AND k.paused_until IS NOT NULL AND k.paused_until <= now() THEN 'ACTIVE'
    ELSE k.status END) = 'ACTIVE'
RETURNING k.expires_at AS "expiresAt";

-- linkSuccessor
UPDATE instance_keys AS k SET replaced_by_key_id = $2 WHERE k.id = $1 RETURNING k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now;

-- pause
UPDATE instance_keys AS k SET status = 'PAUSED', paused_until = $2 WHERE k.id = $1 RETURNING k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now;

-- resume
UPDATE instance_keys AS k SET status = 'ACTIVE', paused_until = NULL WHERE k.id = $1 RETURNING k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now;

-- revoke
UPDATE instance_keys AS k SET status = 'REVOKED', revoked_at = now() WHERE k.id = $1 RETURNING k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now;

-- delete
DELETE FROM instance_keys WHERE id = $1;

-- pauseEnd
SELECT e AS end, e > now() AS future FROM (SELECT COALESCE($1::timestamptz, now() + $2::int * interval '1 second') AS e) x;

-- isFuture
SELECT $1::timestamptz > now() AS future;
