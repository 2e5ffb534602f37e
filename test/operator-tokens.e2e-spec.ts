import { createHash, randomUUID } from 'node:crypto';
import { createInstance } from './support/instance-fixtures';
import { bearer, createOperatorToken } from './support/operator-tokens';
import { advanceClock, expectServedFromCache } from './support/scale-helpers';
import { LIMITS_OUT_OF_REACH, startTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/test-app';
import { KeyCheckCache } from '../src/key-cache/key-check.cache';
import { OPERATOR_SCOPES } from '../src/domain/operator-token.scopes';
import { UsageTracker } from '../src/usage/usage.tracker';

const TOKEN_FORMAT = /^trusset_admin_[0-9a-f]{64}$/;
const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('operator tokens (SPEC §20)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  describe('issuing and reading', () => {
    it('issues trusset_admin_ + 64 hex once, with no-store, and stores only its digest', async () => {
      const res = await t
        .http()
        .post('/api/admin/tokens')
        .set(t.admin)
        .send({ name: 'support desk', scopes: ['instances:read'] })
        .expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const issued = res.body.data;
      expect(issued.token).toMatch(TOKEN_FORMAT);
      expect(issued).toMatchObject({
        name: 'support desk',
        scopes: ['instances:read'],
        instanceRefs: null,
        status: 'ACTIVE',
        expiresAt: null,
        revokedAt: null,
        tokenPrefix: issued.token.slice(0, 18),
        tokenHint: issued.token.slice(-4),
        createdBy: { type: 'admin', id: null, name: null },
      });
      const [row] = await t.dataSource.query(
        `SELECT row_to_json(t)::text AS json, encode(token_digest, 'hex') AS digest FROM operator_tokens t WHERE id = $1`,
        [issued.id],
      );
      expect(row.json).not.toContain(issued.token.slice(14));
      expect(row.digest).toBe(createHash('sha256').update(issued.token).digest('hex'));

      const again = await t.http().get(`/api/admin/tokens/${issued.id}`).set(t.admin).expect(200);
      expect(again.body.data.token).toBeUndefined();
      expect(JSON.stringify(again.body)).not.toContain(issued.token.slice(14));
    });

    it('lists tokens newest first without secrets, and never lists ADMIN_TOKEN', async () => {
      const a = await createOperatorToken(t, { scopes: ['keys:read'] });
      const b = await createOperatorToken(t, { scopes: ['keys:read'] });
      const res = await t.http().get('/api/admin/tokens').query({ limit: 500 }).set(t.admin).expect(200);
      const ids = res.body.data.map((x: { id: string }) => x.id);
      expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
      expect(ids.indexOf(a.id)).toBeGreaterThanOrEqual(0);
      for (const item of res.body.data) {
        expect(item.token).toBeUndefined();
        expect(item.tokenPrefix).toMatch(/^trusset_admin_[0-9a-f]{4}$/);
      }
      expect(res.text).not.toContain(TEST_ADMIN_TOKEN);
      expect(res.text).not.toContain(a.token);
    });

    it('filters the list by the state as of now', async () => {
      const revoked = await createOperatorToken(t, { scopes: ['keys:read'] });
      await t.http().post(`/api/admin/tokens/${revoked.id}/revoke`).set(t.admin).expect(200);
      const expired = await createOperatorToken(t, { scopes: ['keys:read'], expiresAt: future(1) });
      await t.editRows(`UPDATE operator_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
      const states = async (status: string) =>
        (await t.http().get('/api/admin/tokens').query({ status, limit: 500 }).set(t.admin).expect(200)).body.data.map(
          (x: { id: string }) => x.id,
        );
      expect(await states('REVOKED')).toContain(revoked.id);
      expect(await states('EXPIRED')).toContain(expired.id);
      expect(await states('ACTIVE')).not.toEqual(expect.arrayContaining([revoked.id]));
      expect(await states('ACTIVE')).not.toEqual(expect.arrayContaining([expired.id]));
    });

    it.each([
      ['no name', { scopes: ['keys:read'] }, 'name'],
      ['an empty scope list', { name: 'x', scopes: [] }, 'scopes'],
      ['an unknown scope', { name: 'x', scopes: ['keys:admin'] }, 'scopes'],
      ['a repeated scope', { name: 'x', scopes: ['keys:read', 'keys:read'] }, 'scopes'],
      ['an instanceRef of the wrong shape', { name: 'x', scopes: ['keys:read'], instanceRefs: ['short'] }, 'instanceRefs'],
      ['an unknown instance', { name: 'x', scopes: ['keys:read'], instanceRefs: ['ZZZZZZZ9'] }, 'instanceRefs'],
      ['an expiry in the past', { name: 'x', scopes: ['keys:read'], expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
      ['an unknown field', { name: 'x', scopes: ['keys:read'], role: 'root' }, 'role'],
    ])('refuses %s with VALIDATION_ERROR', async (_, body, field) => {
      const res = await t.http().post('/api/admin/tokens').set(t.admin).send(body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(Object.keys(res.body.error.details ?? {})).toContain(field);
    });

    it('answers 404 for an unknown, malformed or another-shaped token id', async () => {
      for (const id of [randomUUID(), 'not-a-uuid', '0'.repeat(64)]) {
        const res = await t.http().get(`/api/admin/tokens/${id}`).set(t.admin).expect(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
      await t.http().post(`/api/admin/tokens/${randomUUID()}/revoke`).set(t.admin).expect(404);
    });
  });

  describe('authenticating with one', () => {
    it('admits a token on a route of its scope, and refuses another scope with 403 INSUFFICIENT_SCOPE naming it', async () => {
      const op = await createOperatorToken(t, { scopes: ['instances:read'] });
      await t.http().get('/api/admin/instances').set(op.auth).expect(200);
      const res = await t.http().post('/api/admin/instances').set(op.auth).send({ name: 'not allowed' }).expect(403);
      expect(res.body.error).toMatchObject({ code: 'INSUFFICIENT_SCOPE', details: { scope: ['instances:write'] } });
      expect(res.body.error.message).toContain('instances:write');
    });

    it('refuses a revoked token with INVALID_TOKEN on the very next request, although it was cached', async () => {
      const op = await createOperatorToken(t, { scopes: ['instances:read'] });
      await expectServedFromCache(t.app.get(KeyCheckCache), () => t.http().get('/api/admin/instances?limit=1').set(op.auth));
      await t.http().post(`/api/admin/tokens/${op.id}/revoke`).set(t.admin).expect(200);
      const res = await t.http().get('/api/admin/instances?limit=1').set(op.auth).expect(401);
      expect(res.body.error.code).toBe('INVALID_TOKEN');
      const again = await t.http().post(`/api/admin/tokens/${op.id}/revoke`).set(t.admin).expect(409);
      expect(again.body.error.code).toBe('ALREADY_REVOKED');
    });

    it('refuses an expired token with INVALID_TOKEN', async () => {
      const op = await createOperatorToken(t, { scopes: ['instances:read'], expiresAt: future(1) });
      await t.http().get('/api/admin/instances?limit=1').set(op.auth).expect(200);
      await t.editRows(`UPDATE operator_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [op.id]);
      const res = await t.http().get('/api/admin/instances?limit=1').set(op.auth).expect(401);
      expect(res.body.error.code).toBe('INVALID_TOKEN');
      expect((await t.http().get(`/api/admin/tokens/${op.id}`).set(t.admin)).body.data.status).toBe('EXPIRED');
    });

    it('refuses a token whose expiry passes while its check is cached, without any eviction', async () => {
      // Expires in 20 s; the cached check lives 60 s (KEY_CACHE_TTL_MS), so 21 s on it is still answered from the cache.
      const op = await createOperatorToken(t, { scopes: ['instances:read'], expiresAt: new Date(Date.now() + 20_000).toISOString() });
      const cache = t.app.get(KeyCheckCache);
      await expectServedFromCache(cache, () => t.http().get('/api/admin/instances?limit=1').set(op.auth));
      advanceClock(21_000);
      const hits = cache.hits;
      const res = await t.http().get('/api/admin/instances?limit=1').set(op.auth).expect(401);
      expect(res.body.error.code).toBe('INVALID_TOKEN');
      expect(cache.hits).toBe(hits + 1);
    });

    it.each([
      ['a malformed token', `trusset_admin_${'A'.repeat(64)}`],
      ['an unknown token', `trusset_admin_${'0'.repeat(64)}`],
      ['a token one character short', `trusset_admin_${'0'.repeat(63)}`],
    ])('refuses %s with INVALID_TOKEN and audits it without the token', async (_, token) => {
      const requestId = `op-probe-${randomUUID()}`;
      const res = await t.http().get('/api/admin/instances').set(bearer(token)).set('X-Request-Id', requestId).expect(401);
      expect(res.body.error.code).toBe('INVALID_TOKEN');
      const rows = await t.dataSource.query(`SELECT actor_type, action, details::text AS details FROM audit_events WHERE request_id = $1`, [
        requestId,
      ]);
      expect(rows).toMatchObject([{ actor_type: 'anonymous', action: 'admin.auth_failed' }]);
      expect(rows[0].details).not.toContain(token.slice(14, 40));
    });

    it('names a revoked token presented again in the failed attempt, so the trail shows who holds it', async () => {
      const op = await createOperatorToken(t, { scopes: ['instances:read'] });
      await t.http().post(`/api/admin/tokens/${op.id}/revoke`).set(t.admin).expect(200);
      const requestId = `op-revoked-${randomUUID()}`;
      await t.http().get('/api/admin/instances').set(op.auth).set('X-Request-Id', requestId).expect(401);
      const [row] = await t.dataSource.query(`SELECT details FROM audit_events WHERE request_id = $1`, [requestId]);
      expect(row.details).toMatchObject({ reason: 'INVALID_TOKEN', operatorTokenId: op.id });
    });

    it('keeps ADMIN_TOKEN working beside operator tokens, in any scheme case', async () => {
      await t.http().get('/api/admin/tokens').set('Authorization', `bearer ${TEST_ADMIN_TOKEN}`).expect(200);
    });

    it("counts admitted requests as the token's usage (batched), so a rotation shows when the old token went quiet", async () => {
      const op = await createOperatorToken(t, { scopes: ['instances:read'] });
      for (let i = 0; i < 3; i++) await t.http().get('/api/admin/instances?limit=1').set(op.auth).expect(200);
      await t.http().post('/api/admin/instances').set(op.auth).send({ name: 'refused' }).expect(403);
      await t.app.get(UsageTracker).flush();
      const res = await t.http().get(`/api/admin/tokens/${op.id}`).set(t.admin).expect(200);
      expect(res.body.data.requestCount).toBe(3);
      expect(res.body.data.lastUsedAt).not.toBeNull();
    });
  });

  describe('no escalation', () => {
    it('lets a tokens:manage token grant only scopes it holds itself', async () => {
      const manager = await createOperatorToken(t, { scopes: ['tokens:manage', 'keys:read'] });
      const ok = await createOperatorToken(t, { scopes: ['keys:read'] }, manager.auth);
      expect(ok.token).toMatch(TOKEN_FORMAT);
      const res = await t
        .http()
        .post('/api/admin/tokens')
        .set(manager.auth)
        .send({ name: 'escalate', scopes: ['keys:read', 'keys:write'] })
        .expect(403);
      expect(res.body.error).toMatchObject({ code: 'INSUFFICIENT_SCOPE', details: { scopes: ['keys:write'] } });
      for (const scope of OPERATOR_SCOPES.filter((s) => s !== 'tokens:manage' && s !== 'keys:read')) {
        const r = await t
          .http()
          .post('/api/admin/tokens')
          .set(manager.auth)
          .send({ name: 'escalate', scopes: [scope] });
        expect({ scope, status: r.status, code: r.body.error?.code }).toEqual({ scope, status: 403, code: 'INSUFFICIENT_SCOPE' });
      }
    });

    it('lets a token restricted to instances grant only those instances, and never every instance', async () => {
      const [a, b] = [await createInstance(t), await createInstance(t)];
      const manager = await createOperatorToken(t, { scopes: ['tokens:manage', 'keys:read'], instanceRefs: [a.ref] });
      const inherited = await createOperatorToken(t, { scopes: ['keys:read'] }, manager.auth);
      expect((await t.http().get(`/api/admin/tokens/${inherited.id}`).set(t.admin)).body.data.instanceRefs).toEqual([a.ref]);
      for (const instanceRefs of [[b.ref], [a.ref, b.ref], null, ['ZZZZZZZ9']]) {
        const r = await t
          .http()
          .post('/api/admin/tokens')
          .set(manager.auth)
          .send({ name: 'escalate', scopes: ['keys:read'], instanceRefs });
        expect({ instanceRefs, status: r.status, code: r.body.error?.code }).toEqual({
          instanceRefs,
          status: 403,
          code: 'INSUFFICIENT_SCOPE',
        });
      }
      await createOperatorToken(t, { scopes: ['keys:read'], instanceRefs: [] }, manager.auth);
    });

    it('lets an expiring token grant no longer lifetime than its own', async () => {
      const ends = future(2);
      const manager = await createOperatorToken(t, { scopes: ['tokens:manage'], expiresAt: ends });
      const inherited = await createOperatorToken(t, { scopes: ['tokens:manage'] }, manager.auth);
      expect((await t.http().get(`/api/admin/tokens/${inherited.id}`).set(t.admin)).body.data.expiresAt).toBe(ends);
      await createOperatorToken(t, { scopes: ['tokens:manage'], expiresAt: future(1) }, manager.auth);
      const r = await t
        .http()
        .post('/api/admin/tokens')
        .set(manager.auth)
        .send({ name: 'longer', scopes: ['tokens:manage'], expiresAt: future(3) })
        .expect(403);
      expect(r.body.error.code).toBe('INSUFFICIENT_SCOPE');
    });

    it('shows and revokes only tokens within its own powers; more powerful ones are 404 to it', async () => {
      const manager = await createOperatorToken(t, { scopes: ['tokens:manage', 'keys:read'] });
      const weaker = await createOperatorToken(t, { scopes: ['keys:read'] });
      const stronger = await createOperatorToken(t, { scopes: ['keys:read', 'keys:write'] });
      const list = (await t.http().get('/api/admin/tokens').query({ limit: 500 }).set(manager.auth).expect(200)).body.data.map(
        (x: { id: string }) => x.id,
      );
      expect(list).toEqual(expect.arrayContaining([weaker.id, manager.id]));
      expect(list).not.toContain(stronger.id);
      await t.http().get(`/api/admin/tokens/${stronger.id}`).set(manager.auth).expect(404);
      await t.http().post(`/api/admin/tokens/${stronger.id}/revoke`).set(manager.auth).expect(404);
      await t.http().get('/api/admin/instances').set(stronger.auth).expect(403);
      await t
        .http()
        .get(`/api/admin/tokens/${stronger.id}`)
        .set(t.admin)
        .expect(200)
        .expect((r) => expect(r.body.data.status).toBe('ACTIVE'));
      await t.http().post(`/api/admin/tokens/${weaker.id}/revoke`).set(manager.auth).expect(200);
    });

    it('cannot reach the bootstrap credential: ADMIN_TOKEN is no token id, and keeps working after every token is revoked', async () => {
      const manager = await createOperatorToken(t, { scopes: ['tokens:manage'] });
      for (const id of ['admin', TEST_ADMIN_TOKEN, '00000000-0000-0000-0000-000000000000']) {
        await t
          .http()
          .post(`/api/admin/tokens/${encodeURIComponent(id)}/revoke`)
          .set(manager.auth)
          .expect(404);
      }
      // A token may end itself (leaving a session), and the bootstrap credential is untouched.
      await t.http().post(`/api/admin/tokens/${manager.id}/revoke`).set(manager.auth).expect(200);
      await t.http().get('/api/admin/tokens').set(manager.auth).expect(401);
      await t.http().get('/api/admin/tokens').set(t.admin).expect(200);
    });
  });

  describe('the audit trail', () => {
    it('names the operator token as the actor of what it does, and of its own creation and revocation', async () => {
      const manager = await createOperatorToken(t, {
        name: 'ops-alice',
        scopes: ['tokens:manage', 'instances:write', 'keys:write', 'audit:read'],
      });
      const created = await t.http().post('/api/admin/instances').set(manager.auth).send({ name: 'made by alice' }).expect(201);
      const ref = created.body.data.instance.instanceRef;
      const keyId = created.body.data.key.id;
      await t.http().post(`/api/admin/instances/${ref}/keys/${keyId}/revoke`).set(manager.auth).expect(200);
      const events = (await t.http().get(`/api/admin/instances/${ref}/events`).set(manager.auth).expect(200)).body.data;
      const alice = { type: 'operator', id: manager.id, name: 'ops-alice' };
      expect(events.map((e: { action: string; actor: unknown; actorType: string }) => [e.action, e.actor, e.actorType])).toEqual([
        ['key.revoked', alice, 'operator'],
        ['key.created', alice, 'operator'],
        ['instance.created', alice, 'operator'],
      ]);

      const child = await createOperatorToken(t, { name: 'ops-bob', scopes: ['instances:write'] }, manager.auth);
      await t.http().post(`/api/admin/tokens/${child.id}/revoke`).set(manager.auth).expect(200);
      const trail = await t.dataSource.query(
        `SELECT action, actor_type, actor_id, actor_name FROM audit_events WHERE target_type = 'operator_token' AND target_id = $1 ORDER BY at`,
        [child.id],
      );
      expect(trail).toEqual([
        { action: 'operator_token.created', actor_type: 'operator', actor_id: manager.id, actor_name: 'ops-alice' },
        { action: 'operator_token.revoked', actor_type: 'operator', actor_id: manager.id, actor_name: 'ops-alice' },
      ]);
      const made = (await t.http().get(`/api/admin/tokens/${child.id}`).set(t.admin)).body.data;
      expect(made.createdBy).toEqual({ type: 'operator', id: manager.id, name: 'ops-alice' });
    });

    it("reads a token's own trail: what it did on any instance, its creation and its revocation", async () => {
      const worker = await createOperatorToken(t, { name: 'ops-dave', scopes: ['instances:write'] });
      const made = await t.http().post('/api/admin/instances').set(worker.auth).send({ name: 'by dave' }).expect(201);
      await t.http().post(`/api/admin/tokens/${worker.id}/revoke`).set(t.admin).expect(200);
      const auditor = await createOperatorToken(t, { scopes: ['audit:read'] });
      const trail = (await t.http().get(`/api/admin/tokens/${worker.id}/events`).set(auditor.auth).expect(200)).body;
      expect(trail.data.map((e: { action: string; actorType: string }) => [e.action, e.actorType])).toEqual([
        ['operator_token.revoked', 'admin'],
        ['key.created', 'operator'],
        ['instance.created', 'operator'],
        ['operator_token.created', 'admin'],
      ]);
      expect(trail.data[2].target).toEqual({ type: 'instance', id: made.body.data.instance.instanceRef });
      expect(trail.pagination.total).toBe(4);
      await t.http().get(`/api/admin/tokens/${randomUUID()}/events`).set(auditor.auth).expect(404);
    });

    it("records a token's creation by ADMIN_TOKEN with the admin as actor, and never the token itself", async () => {
      const requestId = `op-create-${randomUUID()}`;
      const res = await t
        .http()
        .post('/api/admin/tokens')
        .set(t.admin)
        .set('X-Request-Id', requestId)
        .send({ name: 'audited', scopes: ['mica:read'] })
        .expect(201);
      const rows = await t.dataSource.query(`SELECT actor_type, action, details::text AS details FROM audit_events WHERE request_id = $1`, [
        requestId,
      ]);
      expect(rows).toMatchObject([{ actor_type: 'admin', action: 'operator_token.created' }]);
      expect(rows[0].details).not.toContain(res.body.data.token.slice(14));
      expect(rows[0].details).toContain('mica:read');
    });

    it('records a scope refusal with the operator as actor', async () => {
      const op = await createOperatorToken(t, { name: 'reader', scopes: ['instances:read'] });
      const requestId = `op-denied-${randomUUID()}`;
      await t.http().post('/api/admin/instances').set(op.auth).set('X-Request-Id', requestId).send({ name: 'no' }).expect(403);
      const rows = await t.dataSource.query(
        `SELECT actor_type, actor_id, actor_name, action, details FROM audit_events WHERE request_id = $1`,
        [requestId],
      );
      expect(rows).toMatchObject([
        {
          actor_type: 'operator',
          actor_id: op.id,
          actor_name: 'reader',
          action: 'admin.scope_denied',
          details: { requiredScope: 'instances:write' },
        },
      ]);
    });

    it("shows a tenant who acted on its keys, but never the operator's address or request id", async () => {
      const op = await createOperatorToken(t, { name: 'ops-carol', scopes: ['keys:write'] });
      const inst = await createInstance(t);
      const extra = await t
        .http()
        .post(`/api/admin/instances/${inst.ref}/keys`)
        .set(op.auth)
        .set('X-Request-Id', `op-tenant-${randomUUID()}`)
        .send({ name: 'by carol' })
        .expect(201);
      const own = (await t.http().get('/api/keys/events').set('X-API-Key', inst.key).expect(200)).body.data;
      const byCarol = own.find(
        (e: { action: string; target: { id: string } }) => e.action === 'key.created' && e.target.id === extra.body.data.id,
      );
      expect(byCarol).toMatchObject({
        actor: { type: 'operator', id: op.id, name: 'ops-carol' },
        actorType: 'operator',
        ip: null,
        requestId: null,
      });
      const byAdmin = own.find((e: { actorType: string }) => e.actorType === 'admin');
      expect(byAdmin).toMatchObject({ ip: null, requestId: null });
      // The operators' own view keeps both.
      const admin = (await t.http().get(`/api/admin/instances/${inst.ref}/events`).set(t.admin).expect(200)).body.data;
      expect(admin.find((e: { actorType: string }) => e.actorType === 'operator')).toMatchObject({
        ip: expect.any(String),
        requestId: expect.stringMatching(/^op-tenant-/),
      });
    });
  });

  describe('a token revoked while its change is in flight', () => {
    it('changes nothing once its revocation has committed: the change answers INVALID_TOKEN and rolls back', async () => {
      const op = await createOperatorToken(t, { scopes: ['keys:write'] });
      const inst = await createInstance(t);
      // The guard admits the request from its cached check: the revocation below bypasses this
      // replica's invalidation, as one made on another replica does until its notification arrives.
      await expectServedFromCache(
        t.app.get(KeyCheckCache),
        () => t.http().get(`/api/admin/instances/${inst.ref}/keys/${inst.keyId}`).set(op.auth),
        403,
      );
      await t.dataSource.query(`UPDATE operator_tokens SET revoked_at = now() WHERE id = $1`, [op.id]);
      const res = await t.http().post(`/api/admin/instances/${inst.ref}/keys`).set(op.auth).send({ name: 'after revocation' });
      expect([res.status, res.body.error?.code]).toEqual([401, 'INVALID_TOKEN']);
      const keys = (await t.http().get(`/api/admin/instances/${inst.ref}/keys`).set(t.admin).expect(200)).body.data;
      expect(keys.map((k: { name: string }) => k.name)).toEqual(['Default']);
    });
  });
});

describe('failed operator-token attempts and the strict limiter', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  it('slows revoked and unknown tokens from one address with 429, while a valid operator token keeps working', async () => {
    const good = await createOperatorToken(t, { scopes: ['instances:read'] });
    const revoked = await createOperatorToken(t, { scopes: ['instances:read'] });
    await t.http().post(`/api/admin/tokens/${revoked.id}/revoke`).set(t.admin).expect(200);
    for (let i = 0; i < 3; i++)
      await t
        .http()
        .get('/api/admin/instances')
        .set(i % 2 ? revoked.auth : bearer(`trusset_admin_${'1'.repeat(64)}`))
        .expect(401);
    const limited = await t.http().get('/api/admin/instances').set(revoked.auth).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    await t.http().get('/api/admin/instances').set(good.auth).expect(200);
  });
});
