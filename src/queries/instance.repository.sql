-- Written by src/queries/queries.spec.ts from instance.repository.ts: do not edit by hand.

-- insert
INSERT INTO instances (ref, name, services) VALUES ($1, $2, $3) RETURNING id, ref, name, services, status, created_at AS "createdAt", updated_at AS "updatedAt", archived_at AS "archivedAt";

-- byRef
SELECT id, ref, name, services, status, created_at AS "createdAt", updated_at AS "updatedAt", archived_at AS "archivedAt" FROM instances WHERE ref = $1;

-- lockByRef
SELECT id, ref, name, services, status, created_at AS "createdAt", updated_at AS "updatedAt", archived_at AS "archivedAt" FROM instances WHERE ref = $1 FOR UPDATE;

-- update
UPDATE instances SET
       name = COALESCE($2, name),
       services = COALESCE($3::text[], services),
       status = COALESCE($4, status),
       archived_at = CASE WHEN $5::text = 'keep' THEN archived_at WHEN $5::text = 'now' THEN now() ELSE NULL END,
       updated_at = now()
 WHERE id = $1
RETURNING id, ref, name, services, status, created_at AS "createdAt", updated_at AS "updatedAt", archived_at AS "archivedAt";
