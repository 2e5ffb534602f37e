import { randomUUID } from 'node:crypto';
import { createInstance, TestInstance } from './support/instance-fixtures';
import { createOperatorToken, TestOperatorToken } from './support/operator-tokens';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './support/test-app';
import { ADMIN_SCOPE_EXTENSION } from '../src/auth/admin-scope';
import { OPERATOR_SCOPES, OperatorScope } from '../src/domain/operator-token.scopes';

/*
 * The scope matrix of SPEC §20, generated from what the service itself serves: every route under
 * /api/admin that Express routes is an admin operation, and each must declare its scope through
 * @AdminScope (read back from the served OpenAPI document). A new admin route without a declared
 * scope fails the first test; with one, it joins the matrix and the instance checks by itself.
 */

interface AdminOperation {
  method: string;
  /** OpenAPI form: /api/admin/instances/{instanceRef}. */
  path: string;
  scope: OperatorScope;
  allInstances: boolean;
}

type Doc = { paths: Record<string, Record<string, { description?: string; [ext: string]: unknown }>> };

describe('operator token scopes over every admin operation', () => {
  let t: TestApp;
  let doc: Doc;
  let operations: AdminOperation[];
  const tokens = new Map<OperatorScope, TestOperatorToken>();
  let everything: TestOperatorToken;

  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
    doc = (await t.http().get('/api/docs-json').expect(200)).body;
    operations = servedAdminRoutes().map(({ method, path }) => {
      const op = doc.paths[path]?.[method];
      const scope = op?.[ADMIN_SCOPE_EXTENSION] as OperatorScope;
      return { method, path, scope, allInstances: /not restricted to instances/.test(op?.description ?? '') };
    });
    for (const scope of OPERATOR_SCOPES) tokens.set(scope, await createOperatorToken(t, { name: `only ${scope}`, scopes: [scope] }));
    everything = await createOperatorToken(t, { name: 'every scope', scopes: [...OPERATOR_SCOPES] });
  });
  afterAll(() => t.close());

  /** Every route Express serves under /api/admin, as `method` and OpenAPI path. */
  function servedAdminRoutes(): Array<{ method: string; path: string }> {
    const { router } = t.app.getHttpAdapter().getInstance() as {
      router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
    };
    return router.stack
      .flatMap((layer) => (layer.route && String(layer.route.path).startsWith('/api/admin/') ? [layer.route] : []))
      .flatMap((route) => Object.keys(route.methods).map((method) => ({ method, path: String(route.path).replace(/:(\w+)/g, '{$1}') })));
  }

  const label = (op: Pick<AdminOperation, 'method' | 'path'>) => `${op.method.toUpperCase()} ${op.path}`;

  /** The path with real targets: a fresh instance and its key, a throwaway token, else an id that names nothing. */
  async function target(op: AdminOperation, instance?: TestInstance): Promise<string> {
    const inst = instance ?? (await createInstance(t));
    let path = op.path.replace('{instanceRef}', inst.ref).replace('{keyId}', inst.keyId);
    if (path.includes('{id}') && op.path.startsWith('/api/admin/tokens/')) {
      path = path.replace('{id}', (await createOperatorToken(t, { name: 'target', scopes: ['mica:read'] })).id);
    }
    return path.replace(/\{\w+\}/g, () => randomUUID());
  }

  function call(method: string, path: string, auth: { Authorization: string }) {
    const req = t.http()[method as 'post'](path).set(auth);
    return method === 'get' ? req : req.send({});
  }

  it('finds the admin operations, each declaring one known scope in its OpenAPI description', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const undeclared = operations.filter((op) => !OPERATOR_SCOPES.includes(op.scope)).map(label);
    expect(undeclared).toEqual([]);
    const undescribed = operations
      .filter((op) => !(doc.paths[op.path][op.method].description ?? '').includes(`Required scope: \`${op.scope}\``))
      .map(label);
    expect(undescribed).toEqual([]);
    const no403 = operations.filter((op) => !('403' in ((doc.paths[op.path][op.method].responses as object | undefined) ?? {}))).map(label);
    expect(no403).toEqual([]);
  });

  it('lets each scope call exactly the operations that declare it, and refuses every other with INSUFFICIENT_SCOPE naming the scope', async () => {
    const wrong: string[] = [];
    // A refused call changes nothing, so the refusals share one target; an admitted one gets its own.
    const shared = await createInstance(t);
    for (const op of operations) {
      for (const scope of OPERATOR_SCOPES) {
        const path = await target(op, scope === op.scope ? undefined : shared);
        const res = await call(op.method, path, tokens.get(scope)!.auth);
        const refused = res.status === 403 && res.body.error?.code === 'INSUFFICIENT_SCOPE';
        if (scope === op.scope) {
          if (refused || res.status === 401 || res.status >= 500)
            wrong.push(`${label(op)} with ${scope}: ${res.status} ${res.body.error?.code}`);
        } else if (
          !refused ||
          JSON.stringify(res.body.error.details) !== JSON.stringify({ scope: [op.scope] }) ||
          !res.body.error.message.includes(op.scope)
        ) {
          wrong.push(`${label(op)} with ${scope}: ${res.status} ${res.body.error?.code}, not INSUFFICIENT_SCOPE naming ${op.scope}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 180_000);

  it('admits ADMIN_TOKEN and a token holding every scope on every operation', async () => {
    const wrong: string[] = [];
    for (const op of operations) {
      for (const [who, auth] of [
        ['ADMIN_TOKEN', t.admin],
        ['every scope', everything.auth],
      ] as const) {
        const res = await call(op.method, await target(op), auth);
        if (res.status === 401 || res.status === 403 || res.status >= 500)
          wrong.push(`${label(op)} with ${who}: ${res.status} ${res.body.error?.code}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 180_000);

  describe('a token restricted to instances', () => {
    it('gets 404 on every instance operation for any other instance, exactly as for one that does not exist, and changes nothing there', async () => {
      const own = await createInstance(t);
      const restricted = await createOperatorToken(t, { name: 'one instance', scopes: [...OPERATOR_SCOPES], instanceRefs: [own.ref] });
      const other = await createInstance(t);
      const trailBefore = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE instance_id = $1`, [other.id]);
      const instanceOps = operations.filter((op) => op.path.includes('{instanceRef}'));
      expect(instanceOps.length).toBeGreaterThanOrEqual(13);
      const wrong: string[] = [];
      for (const op of instanceOps) {
        const res = await call(op.method, await target(op, other), restricted.auth);
        const answer = { status: res.status, code: res.body.error?.code, message: res.body.error?.message };
        if (JSON.stringify(answer) !== JSON.stringify({ status: 404, code: 'NOT_FOUND', message: 'Instance not found.' }))
          wrong.push(`${label(op)}: ${JSON.stringify(answer)}`);
      }
      expect(wrong).toEqual([]);
      const trailAfter = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE instance_id = $1`, [other.id]);
      expect(trailAfter).toEqual(trailBefore);
      const [state] = await t.dataSource.query(
        `SELECT i.status, count(k.*)::int AS keys, bool_and(k.status = 'ACTIVE') AS active FROM instances i JOIN instance_keys k ON k.instance_id = i.id WHERE i.id = $1 GROUP BY i.status`,
        [other.id],
      );
      expect(state).toEqual({ status: 'ACTIVE', keys: 1, active: true });
    });

    it('reaches every instance operation on its own instances', async () => {
      const wrong: string[] = [];
      for (const op of operations.filter((o) => o.path.includes('{instanceRef}'))) {
        const own = await createInstance(t);
        const restricted = await createOperatorToken(t, { scopes: [op.scope], instanceRefs: [own.ref] });
        const res = await call(op.method, await target(op, own), restricted.auth);
        const blocked =
          res.status === 401 ||
          res.status === 403 ||
          res.status >= 500 ||
          (res.status === 404 && res.body.error?.message === 'Instance not found.');
        if (blocked) wrong.push(`${label(op)}: ${res.status} ${res.body.error?.code} ${res.body.error?.message}`);
      }
      expect(wrong).toEqual([]);
    });

    it('lists only its instances', async () => {
      const [a, b, c] = [await createInstance(t), await createInstance(t), await createInstance(t)];
      const restricted = await createOperatorToken(t, { scopes: ['instances:read'], instanceRefs: [a.ref, c.ref] });
      const res = await t.http().get('/api/admin/instances').query({ limit: 500 }).set(restricted.auth).expect(200);
      expect(res.body.data.map((i: { instanceRef: string }) => i.instanceRef).sort()).toEqual([a.ref, c.ref].sort());
      expect(res.body.pagination.total).toBe(2);
      expect(res.text).not.toContain(b.ref);
      const none = await createOperatorToken(t, { scopes: ['instances:read'], instanceRefs: [] });
      const empty = await t.http().get('/api/admin/instances').set(none.auth).expect(200);
      expect([empty.body.data, empty.body.pagination.total]).toEqual([[], 0]);
    });

    it('is refused the operations that reach beyond any one instance, such as creating one', async () => {
      const own = await createInstance(t);
      const restricted = await createOperatorToken(t, { scopes: [...OPERATOR_SCOPES], instanceRefs: [own.ref] });
      const beyond = operations.filter((op) => op.allInstances);
      expect(beyond.map(label)).toContain('POST /api/admin/instances');
      for (const op of beyond) {
        const res = await call(op.method, await target(op), restricted.auth);
        expect({ op: label(op), status: res.status, code: res.body.error?.code }).toEqual({
          op: label(op),
          status: 403,
          code: 'INSUFFICIENT_SCOPE',
        });
      }
      const before = (await t.http().get('/api/admin/instances').set(restricted.auth)).body.pagination.total;
      await t.http().post('/api/admin/instances').set(restricted.auth).send({ name: 'escape' }).expect(403);
      expect((await t.http().get('/api/admin/instances').set(restricted.auth)).body.pagination.total).toBe(before);
    });
  });
});
