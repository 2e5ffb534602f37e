/*
 * The README's flows through a client generated from the served OpenAPI document: every path,
 * parameter, body and answer below is typed by `paths` alone, so a document that lies about a
 * field either fails this file's strict compile or fails at run time (the checks below).
 * Usage: node flows.js <baseUrl> <adminToken>
 */
import createClient from 'openapi-fetch';
import type { paths } from './generated/api';

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`flow check failed: ${what}`);
}

async function main(baseUrl: string, adminToken: string): Promise<void> {
  const api = createClient<paths>({ baseUrl });
  const admin = { Authorization: `Bearer ${adminToken}` };

  // Admin: an instance and its first key.
  const created = await api.POST('/api/admin/instances', { headers: admin, body: { name: 'Generated client', services: ['trading'] } });
  check(created.response.status === 201 && created.data, 'create instance');
  const { instance, key } = created.data.data;
  const ref: string = instance.instanceRef;
  const firstKey: string = key.key;
  const archivedAt: string | null = instance.archivedAt;
  check(archivedAt === null, 'a new instance is not archived');

  const listed = await api.GET('/api/admin/instances', { headers: admin, params: { query: { limit: 5, status: 'ACTIVE' } } });
  check(listed.data && listed.data.pagination.limit === 5, 'list instances');
  const patched = await api.PATCH('/api/admin/instances/{instanceRef}', {
    headers: admin,
    params: { path: { instanceRef: ref } },
    body: { services: ['trading', 'custody'] },
  });
  check(patched.data?.data.services.includes('custody'), 'enable a service');

  // The key check a gateway makes.
  const verified = await api.GET('/api/auth/verify', { headers: { 'X-API-Key': firstKey }, params: { query: { service: 'trading' } } });
  check(verified.data?.data.instanceRef === ref && verified.response.headers.get('X-Trusset-Instance-Ref') === ref, 'verify');
  const refused = await api.GET('/api/auth/verify', { headers: { 'X-API-Key': 'trusset_nope' } });
  check(refused.response.status === 401 && refused.error?.error.code === 'AUTH_FAILED', 'verify refuses a malformed key');

  // Self-service: the instance manages its keys with its own key.
  const self = { 'X-API-Key': firstKey };
  const made = await api.POST('/api/keys', { headers: self, body: { name: 'CI deploys' } });
  check(made.response.status === 201 && made.data, 'create key');
  const ci = made.data.data;
  const expiresAt: string | null = ci.expiresAt;
  check(expiresAt === null && typeof ci.key === 'string', 'a new key has no expiry and its plaintext');
  const rotated = await api.POST('/api/keys/{keyId}/rotate', {
    headers: self,
    params: { path: { keyId: ci.id } },
    body: { overlapSeconds: 60 },
  });
  check(rotated.response.status === 201 && rotated.data?.data.replacesKeyId === ci.id, 'rotate');
  const rotating = await api.GET('/api/keys', { headers: self, params: { query: { status: 'PENDING_ROTATION' } } });
  check(
    rotating.data?.data.some((k) => k.id === ci.id && k.replacedByKeyId === rotated.data?.data.id),
    'list keys in their overlap',
  );
  const successor = rotated.data.data.id;
  const paused = await api.POST('/api/keys/{keyId}/pause', {
    headers: self,
    params: { path: { keyId: successor } },
    body: { durationSeconds: 60 },
  });
  check(paused.data?.data.status === 'PAUSED' && typeof paused.data.data.pausedUntil === 'string', 'pause');
  const resumed = await api.POST('/api/keys/{keyId}/resume', { headers: self, params: { path: { keyId: successor } } });
  check(resumed.data?.data.status === 'ACTIVE', 'resume');
  const revoked = await api.POST('/api/keys/{keyId}/revoke', { headers: self, params: { path: { keyId: successor } } });
  check(revoked.data?.data.status === 'REVOKED' && revoked.data.data.revokedAt !== null, 'revoke');
  const deleted = await api.DELETE('/api/keys/{keyId}', { headers: self, params: { path: { keyId: successor } } });
  check(deleted.data?.data.deleted === true, 'delete');
  const events = await api.GET('/api/keys/events', { headers: self, params: { query: { limit: 10 } } });
  check(
    events.data && events.data.data.length > 0 && events.data.data.every((e) => e.ip === null || typeof e.ip === 'string'),
    'own audit trail',
  );

  // Admin door to the same keys, archive and restore.
  const adminKeys = await api.GET('/api/admin/instances/{instanceRef}/keys', { headers: admin, params: { path: { instanceRef: ref } } });
  check(adminKeys.data && adminKeys.data.pagination.total >= 2, 'admin lists keys');
  const archived = await api.POST('/api/admin/instances/{instanceRef}/archive', { headers: admin, params: { path: { instanceRef: ref } } });
  check(archived.data?.data.status === 'ARCHIVED' && typeof archived.data.data.archivedAt === 'string', 'archive');
  const gone = await api.GET('/api/auth/verify', { headers: self });
  check(gone.response.status === 401 && gone.response.headers.get('WWW-Authenticate') !== null, "an archived instance's key fails");
  const restored = await api.POST('/api/admin/instances/{instanceRef}/restore', { headers: admin, params: { path: { instanceRef: ref } } });
  check(restored.data?.data.status === 'ACTIVE', 'restore');

  // MiCA: sign up, use the data API, manage keys with the management token.
  const signup = await api.POST('/api/mica/developer/register', {
    body: { name: 'Generated client', email: `client-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com` },
  });
  check(signup.response.status === 201 && signup.data, 'register');
  const { apiKey, managementToken, limits } = signup.data.data;
  check(Number.isInteger(limits.perMinute), 'limits are integers');
  const health = await api.GET('/api/mica/v1/health', { headers: { 'X-API-Key': apiKey } });
  check(health.data && (health.data.data.lastSync === null || typeof health.data.data.lastSync === 'string'), 'MiCA health');
  const issuers = await api.GET('/api/mica/v1/issuers', { headers: { 'X-API-Key': apiKey }, params: { query: { limit: 1 } } });
  check(issuers.data && issuers.response.headers.get('X-Total-Count') !== null, 'issuers');
  const countries = await api.GET('/api/mica/v1/countries', { headers: { 'X-API-Key': apiKey } });
  check(countries.data && countries.data.data.every((c) => c.countryCode === null || typeof c.countryCode === 'string'), 'countries');
  const bearer = { Authorization: `Bearer ${managementToken}` };
  const keys = await api.GET('/api/mica/developer/keys', { headers: bearer });
  check(keys.data?.data.keys.length === 1, 'list MiCA keys');
  const second = await api.POST('/api/mica/developer/keys', { headers: bearer, body: {} });
  check(second.response.status === 201 && second.data, 'create MiCA key');
  const micaRotated = await api.POST('/api/mica/developer/keys/{keyId}/rotate', {
    headers: bearer,
    params: { path: { keyId: second.data.data.id } },
  });
  check(micaRotated.data?.data.replacesKeyId === second.data.data.id, 'rotate MiCA key');
  const micaRevoked = await api.DELETE('/api/mica/developer/keys/{keyId}', {
    headers: bearer,
    params: { path: { keyId: micaRotated.data.data.id } },
  });
  check(micaRevoked.response.status === 200, 'revoke MiCA key');
  const newToken = await api.POST('/api/mica/developer/management-token/rotate', { headers: bearer });
  check(newToken.response.status === 201 && newToken.data, 'rotate the management token');
  const old = await api.GET('/api/mica/developer/keys', { headers: bearer });
  check(old.response.status === 401 && old.error?.error.code === 'INVALID_TOKEN', 'the old token fails at once');

  process.stdout.write('flows ok\n');
}

const [baseUrl, adminToken] = process.argv.slice(2);
if (!baseUrl || !adminToken) throw new Error('usage: node flows.js <baseUrl> <adminToken>');
main(baseUrl, adminToken).catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
