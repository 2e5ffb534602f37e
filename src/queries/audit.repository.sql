-- Written by src/queries/queries.spec.ts from audit.repository.ts: do not edit by hand.

-- insert
INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11);

-- insertAsLiveOperator
INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name)
SELECT $1, $2::text, $3, $4, $5, $6::uuid, $7::uuid, $8, $9, $10::jsonb, $11
  FROM operator_tokens t
 WHERE t.id = $2::text::uuid AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
   FOR SHARE OF t
RETURNING id;

-- liveOperatorToken
SELECT 1 FROM operator_tokens t WHERE t.id = $1::uuid AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) FOR SHARE OF t;

-- insertMany
INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name)
SELECT $1, $2, e.action, e.target_type, e.target_id, e.instance_id, e.developer_id, $3, $4, e.details, $6
  FROM ROWS FROM (jsonb_to_recordset($5::jsonb)
       AS (action text, target_type text, target_id text, instance_id uuid, developer_id uuid, details jsonb))
       WITH ORDINALITY AS e(action, target_type, target_id, instance_id, developer_id, details, n)
 ORDER BY e.n;

-- insertSuppressed
INSERT INTO audit_events (actor_type, action, ip, details)
SELECT 'anonymous', $1, left(a, 64), d::jsonb FROM unnest($2::text[], $3::text[]) AS v(a, d);

-- pruneUnowned
DELETE FROM audit_events
 WHERE action = ANY($1::text[]) AND instance_id IS NULL AND developer_id IS NULL AND at < now() - $2::int * interval '1 day';
