-- Written by src/queries/queries.spec.ts from usage.repository.ts: do not edit by hand.

-- addToInstanceKeys
UPDATE instance_keys AS t
   SET request_count = t.request_count + u.n,
       last_used_at = GREATEST(COALESCE(t.last_used_at, u.at), u.at)
  FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at)
 WHERE t.id = u.id;

-- addToMicaKeys
UPDATE mica_keys AS t
   SET request_count = t.request_count + u.n,
       last_used_at = GREATEST(COALESCE(t.last_used_at, u.at), u.at)
  FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at)
 WHERE t.id = u.id;

-- addToOperatorTokens
UPDATE operator_tokens AS t
   SET request_count = t.request_count + u.n,
       last_used_at = GREATEST(COALESCE(t.last_used_at, u.at), u.at)
  FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at)
 WHERE t.id = u.id;

-- addToInstanceKeyHours
INSERT INTO key_usage_hourly AS h (key_kind, key_id, hour, requests, refused_ip_not_allowed, refused_service_not_enabled, refused_rate_limited)
SELECT $1, u.id, u.hour, u.requests, u.ip, u.service, u.rate
  FROM unnest($2::uuid[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(id, hour, requests, ip, service, rate)
 WHERE EXISTS (SELECT 1 FROM instance_keys t WHERE t.id = u.id)
ON CONFLICT (key_kind, key_id, hour) DO UPDATE SET
  requests = h.requests + EXCLUDED.requests,
  refused_ip_not_allowed = h.refused_ip_not_allowed + EXCLUDED.refused_ip_not_allowed,
  refused_service_not_enabled = h.refused_service_not_enabled + EXCLUDED.refused_service_not_enabled,
  refused_rate_limited = h.refused_rate_limited + EXCLUDED.refused_rate_limited;

-- addToMicaKeyHours
INSERT INTO key_usage_hourly AS h (key_kind, key_id, hour, requests, refused_ip_not_allowed, refused_service_not_enabled, refused_rate_limited)
SELECT $1, u.id, u.hour, u.requests, u.ip, u.service, u.rate
  FROM unnest($2::uuid[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(id, hour, requests, ip, service, rate)
 WHERE EXISTS (SELECT 1 FROM mica_keys t WHERE t.id = u.id)
ON CONFLICT (key_kind, key_id, hour) DO UPDATE SET
  requests = h.requests + EXCLUDED.requests,
  refused_ip_not_allowed = h.refused_ip_not_allowed + EXCLUDED.refused_ip_not_allowed,
  refused_service_not_enabled = h.refused_service_not_enabled + EXCLUDED.refused_service_not_enabled,
  refused_rate_limited = h.refused_rate_limited + EXCLUDED.refused_rate_limited;

-- instanceKeyByRef
SELECT k.id, k.request_count AS "requestCount" FROM instance_keys k JOIN instances i ON i.id = k.instance_id WHERE k.id = $1 AND i.ref = $2;

-- instanceKeyById
SELECT k.id, k.request_count AS "requestCount" FROM instance_keys k JOIN instances i ON i.id = k.instance_id WHERE k.id = $1 AND i.id = $2;

-- instanceExists
SELECT 1 FROM instances WHERE ref = $1;

-- micaKeys
SELECT id, name, key_prefix AS "keyPrefix", revoked_at AS "revokedAt", request_count AS "requestCount"
  FROM mica_keys WHERE developer_id = $1 ORDER BY created_at DESC, id DESC;

-- buckets
SELECT key_id AS "keyId", date_trunc($5, hour, 'UTC') AS start, sum(requests)::bigint AS requests, sum(refused_ip_not_allowed)::bigint AS ip,
       sum(refused_service_not_enabled)::bigint AS service, sum(refused_rate_limited)::bigint AS rate
  FROM key_usage_hourly
 WHERE key_kind = $1 AND key_id = ANY($2::uuid[])
   AND hour >= ($3::date)::timestamp AT TIME ZONE 'UTC' AND hour < ($4::date + 1)::timestamp AT TIME ZONE 'UTC'
 GROUP BY key_id, 2 ORDER BY key_id, 2;

-- prune
DELETE FROM key_usage_hourly WHERE hour < now() - $1::int * interval '1 day';
