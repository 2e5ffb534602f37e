import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { INSTANCE_KEY_FORMAT } from '../src/domain/instance-key.material';
import { MANAGEMENT_TOKEN_FORMAT, MICA_KEY_FORMAT } from '../src/domain/mica-credentials';
import { envelopeProblem } from './support/envelope-checks';
import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/test-app';

/*
 * Property-based fuzzing of every request DTO through the real HTTP pipeline: arbitrary JSON bodies
 * and query strings never produce a 5xx or anything but the envelope, and a malformed credential
 * never passes a guard nor costs a credential lookup in the database.
 */

type Scheme = 'admin' | 'instance' | 'management' | 'mica' | 'public';
interface Route {
  method: 'post' | 'patch' | 'get';
  path: () => string;
  scheme: Scheme;
  /** The DTO's field names, so generated bodies reach field validation, not only "unknown field". */
  fields: string[];
}

/** Characters a header value may carry (Node refuses the rest before sending). */
const headerChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\t', 'A', 'F', '_', ' ', 'é', '\u00a0', '\u00ff'),
);
const headerString = (maxLength: number) => fc.string({ unit: headerChar, maxLength });

/** HTTP drops spaces and tabs around a header value: ` key` arrives as `key`, a valid credential. */
const asReceived = (value: string) => value.replace(/^[ \t]+|[ \t]+$/g, '');

/** A near miss of a valid credential: one character dropped, added or replaced, the case changed, or two joined. */
function nearMiss(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat(valid.length - 1).map((i) => valid.slice(0, i) + valid.slice(i + 1)),
    fc.tuple(fc.nat(valid.length), headerChar).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i)),
    fc.tuple(fc.nat(valid.length - 1), headerChar).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
    fc.nat(valid.length - 1).map((i) => valid.slice(0, i) + valid.slice(i).toUpperCase()),
    fc.constant(`${valid}, ${valid}`),
    headerString(120),
  );
}

describe('request fuzzing', () => {
  let t: TestApp;
  let inst: TestInstance;
  let adminTarget: TestInstance;
  let selfTarget: string;
  let mica: { apiKey: string; token: string };
  let routes: Route[];

  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
    inst = await createInstance(t, ['trading']);
    adminTarget = await createInstance(t, ['trading']);
    selfTarget = (await t.http().post('/api/keys').set('X-API-Key', inst.key).send({ name: 'target' }).expect(201)).body.data.id;
    const reg = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Fuzzer', email: `fuzz-${randomUUID()}@example.com` })
        .expect(201)
    ).body.data;
    mica = { apiKey: reg.apiKey, token: reg.managementToken };
    routes = [
      { method: 'post', path: () => '/api/admin/instances', scheme: 'admin', fields: ['name', 'services'] },
      { method: 'patch', path: () => `/api/admin/instances/${adminTarget.ref}`, scheme: 'admin', fields: ['name', 'services'] },
      { method: 'post', path: () => adminKeys(adminTarget.ref), scheme: 'admin', fields: ['name', 'expiresAt'] },
      {
        method: 'post',
        path: () => adminKeys(adminTarget.ref, `/${adminTarget.keyId}/pause`),
        scheme: 'admin',
        fields: ['until', 'durationSeconds'],
      },
      {
        method: 'post',
        path: () => adminKeys(adminTarget.ref, `/${adminTarget.keyId}/rotate`),
        scheme: 'admin',
        fields: ['overlapSeconds'],
      },
      { method: 'post', path: () => '/api/admin/mica/sync', scheme: 'admin', fields: ['folder'] },
      { method: 'post', path: () => '/api/keys', scheme: 'instance', fields: ['name', 'expiresAt'] },
      { method: 'post', path: () => `/api/keys/${selfTarget}/pause`, scheme: 'instance', fields: ['until', 'durationSeconds'] },
      { method: 'post', path: () => `/api/keys/${selfTarget}/rotate`, scheme: 'instance', fields: ['overlapSeconds'] },
      { method: 'post', path: () => '/api/mica/developer/register', scheme: 'public', fields: ['name', 'email'] },
      { method: 'post', path: () => '/api/mica/developer/keys', scheme: 'management', fields: ['name'] },
      { method: 'get', path: () => '/api/admin/instances', scheme: 'admin', fields: ['limit', 'offset', 'status', 'search'] },
      { method: 'get', path: () => '/api/keys', scheme: 'instance', fields: ['limit', 'offset', 'status'] },
      {
        method: 'get',
        path: () => '/api/mica/v1/issuers',
        scheme: 'mica',
        fields: ['licenseType', 'country', 'status', 'search', 'sortBy', 'fields', 'limit'],
      },
      { method: 'get', path: () => '/api/mica/v1/search', scheme: 'mica', fields: ['q', 'limit', 'offset'] },
    ];
  });
  afterAll(() => t.close());

  const validHeaders = (scheme: Scheme): Record<string, string> =>
    ({
      admin: t.admin,
      instance: { 'X-API-Key': inst.key },
      management: { Authorization: `Bearer ${mica.token}` },
      mica: { 'X-API-Key': mica.apiKey },
      public: {},
    })[scheme];

  /** JSON values with the DTO's own field names among the keys, and edge values among the leaves. */
  const bodyFor = (fields: string[]) => {
    const leaf = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.string({ unit: 'grapheme', maxLength: 120 }),
      fc.constantFrom(
        '',
        ' ',
        '\0',
        'a\r\nb',
        '2030-01-01T00:00:00Z',
        'not-a-date',
        -1,
        0,
        1,
        2_592_001,
        1e21,
        'x'.repeat(5000),
        ['trading'],
        ['trading', 'trading'],
      ),
    );
    return fc.oneof(
      { weight: 4, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 10 })), leaf, { maxKeys: 4 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );
  };
  const queryFor = (fields: string[]) =>
    fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 8 })),
        fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer().map(String)),
      ),
      { maxLength: 4 },
    );
  const encode = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

  function request(route: Route, headers: Record<string, string>, body: unknown, query: Array<[string, string]>) {
    const url = route.method === 'get' && query.length ? `${route.path()}?${encode(query)}` : route.path();
    const req = t.http()[route.method](url).set(headers);
    return route.method === 'get' ? req : req.set('Content-Type', 'application/json').send(JSON.stringify(body ?? null));
  }

  it('answers arbitrary bodies and queries to every DTO with the envelope and never a 5xx', async () => {
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(bodyFor(route.fields), queryFor(route.fields), async (body, query) => {
          const res = await request(route, validHeaders(route.scheme), body, query);
          expect(res.status).toBeLessThan(500);
          expect(envelopeProblem(res)).toBeUndefined();
        }),
        { numRuns: 40 },
      );
    }
  });

  describe('malformed credentials', () => {
    let sql: string[];
    let spy: jest.SpyInstance;
    beforeEach(() => {
      sql = [];
      const original = t.dataSource.query.bind(t.dataSource);
      spy = jest.spyOn(t.dataSource, 'query').mockImplementation((q, params) => {
        sql.push(q);
        return original(q, params);
      });
    });
    afterEach(() => spy.mockRestore());

    /** Credential lookups are the only queries that read these columns. */
    const lookups = () => sql.filter((q) => /key_digest|management_token_digest/.test(q));

    it('never pass the instance-key guard and never reach the database', async () => {
      const protectedRoutes = routes.filter((r) => r.scheme === 'instance');
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...protectedRoutes), nearMiss(inst.key), bodyFor(['name']), async (route, key, body) => {
          fc.pre(!INSTANCE_KEY_FORMAT.test(asReceived(key)));
          const res = await request(route, { 'X-API-Key': key }, body, []);
          expect(res.status).toBe(401);
          expect(res.body.error.code).toMatch(/^AUTH_(REQUIRED|FAILED)$/);
        }),
        { numRuns: 150 },
      );
      expect(lookups()).toEqual([]);
    });

    it('never pass the MiCA key guard and never reach the database', async () => {
      await fc.assert(
        fc.asyncProperty(nearMiss(mica.apiKey), queryFor(['q']), async (key, query) => {
          fc.pre(!MICA_KEY_FORMAT.test(asReceived(key)));
          const res = await request(
            routes.find((r) => r.path() === '/api/mica/v1/search')!,
            { 'X-API-Key': key },
            undefined,
            query,
          );
          expect(res.status).toBe(401);
        }),
        { numRuns: 150 },
      );
      expect(lookups()).toEqual([]);
    });

    it('never pass the management-token guard and never reach the database', async () => {
      await fc.assert(
        fc.asyncProperty(
          nearMiss(mica.token),
          fc.constantFrom('Bearer ', 'bearer  ', 'Basic ', ''),
          bodyFor(['name']),
          async (token, scheme, body) => {
            fc.pre(!MANAGEMENT_TOKEN_FORMAT.test(asReceived(token)));
            const res = await request(
              routes.find((r) => r.scheme === 'management')!,
              { Authorization: scheme + token },
              body,
              [],
            );
            expect(res.status).toBe(401);
            expect(res.body.error.code).toMatch(/^(UNAUTHORIZED|INVALID_TOKEN)$/);
          },
        ),
        { numRuns: 150 },
      );
      expect(lookups()).toEqual([]);
    });

    it('never pass the admin guard', async () => {
      const adminRoutes = routes.filter((r) => r.scheme === 'admin');
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...adminRoutes),
          nearMiss(TEST_ADMIN_TOKEN),
          fc.constantFrom('Bearer ', 'Basic ', ''),
          async (route, token, scheme) => {
            fc.pre(asReceived(token) !== TEST_ADMIN_TOKEN);
            const res = await request(route, { Authorization: scheme + token }, { name: 'must not be created' }, []);
            expect(res.status).toBe(401);
          },
        ),
        { numRuns: 150 },
      );
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM instances WHERE name = 'must not be created'`);
      expect(n).toBe(0);
    });
  });
});
