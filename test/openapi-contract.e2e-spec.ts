import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { envelopeProblem, leakIn } from './support/envelope-checks';
import { createInstance, TestInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './support/test-app';

/*
 * Contract fuzzing from the service's own OpenAPI document: every operation it lists is called with
 * valid, boundary and invalid path parameters, query parameters and bodies, with and without a valid
 * credential of its security scheme. Every answer must be the envelope, carry a status the document
 * lists for that operation, carry the security headers, never be a 5xx and never reveal SQL, stack
 * traces or digests. The document itself must list every served route with its security scheme,
 * 401 and 400.
 */

/** The OpenAPI schema and parameter keywords the fuzz reads. */
interface Schema {
  $ref?: string;
  type?: string;
  example?: unknown;
  enum?: unknown[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  content?: Record<string, { schema?: Schema }>;
}
interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema: Schema;
}
/** The routes Express serves, as its router holds them. */
type ExpressApp = { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } };
type Operation = {
  responses: Record<string, unknown>;
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: Schema;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
interface Case {
  label: string;
  path: string;
  query?: string;
  body?: unknown;
  rawBody?: string;
}

const NOT_ENVELOPE = new Set(['/api/metrics']);
const HUGE = 'x'.repeat(12_000);
const UNICODE = 'Zürich 東京 🔑 \u202e\u2028 Ω';
const BAD_STRINGS: unknown[] = [
  '',
  ' ',
  HUGE,
  UNICODE,
  '\0',
  'a\r\nb',
  "' OR 1=1 --",
  '%s%n',
  null,
  0,
  -1,
  1.5,
  true,
  [],
  {},
  ['a'],
  { $gt: '' },
];
const BAD_PATH_VALUES = [
  'x',
  'a'.repeat(7),
  'a'.repeat(9),
  'a'.repeat(101),
  'a'.repeat(3000),
  '☃'.repeat(8),
  '\0',
  '../..',
  "' OR 1=1 --",
  '\r\n',
  '\u2028',
  randomUUID(),
  '00000000-0000-0000-0000-000000000000',
  'ZZZZZZZZ',
  '1e9',
  '-1',
];

describe('OpenAPI contract', () => {
  let t: TestApp;
  let doc: Doc;
  let admin: TestInstance; // target of the admin door's path parameters
  let selfService: TestInstance; // its Default key is the credential of the self-service door
  let selfServiceTarget: string; // another key of selfService, the target of /api/keys/{keyId}
  let mica: { apiKey: string; token: string; targetKeyId: string };
  // Per door, a webhook endpoint and one of its deliveries: the targets of {id} and {deliveryId}.
  const hooks: Record<string, { id: string; deliveryId: string }> = {};
  const answers: Array<{ label: string; res: Response }> = [];

  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
    doc = (await t.http().get('/api/docs-json').expect(200)).body;
    admin = await createInstance(t, ['trading']);
    selfService = await createInstance(t, ['trading']);
    selfServiceTarget = (await t.http().post('/api/keys').set('X-API-Key', selfService.key).send({ name: 'target' }).expect(201)).body.data
      .id;
    const reg = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Contract fuzzer', email: `fuzz-${randomUUID()}@example.com` })
        .expect(201)
    ).body.data;
    const second = (
      await t
        .http()
        .post('/api/mica/developer/keys')
        .set('Authorization', `Bearer ${reg.managementToken}`)
        .send({ name: 'target' })
        .expect(201)
    ).body.data;
    mica = { apiKey: reg.apiKey, token: reg.managementToken, targetKeyId: second.id };
    for (const [door, base, headers] of [
      ['self', '/api/webhooks', { 'X-API-Key': selfService.key }],
      ['admin', `/api/admin/instances/${admin.ref}/webhooks`, t.admin],
      ['mica', '/api/mica/developer/webhooks', { Authorization: `Bearer ${reg.managementToken}` }],
    ] as const) {
      const id = (await t.http().post(base).set(headers).send({ url: 'https://hooks.example.com/contract' }).expect(201)).body.data.id;
      const deliveryId = (await t.http().post(`${base}/${id}/test`).set(headers).expect(202)).body.data.deliveryId;
      hooks[door] = { id, deliveryId };
    }
  });
  afterAll(() => t.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

  function credential(op: Operation): Record<string, string> {
    const scheme = Object.keys(op.security?.[0] ?? {})[0];
    switch (scheme) {
      case undefined:
        return {};
      case 'admin-token':
        return t.admin;
      case 'instance-key':
        return { 'X-API-Key': selfService.key };
      case 'mica-key':
        return { 'X-API-Key': mica.apiKey };
      case 'mica-management-token':
        return { Authorization: `Bearer ${mica.token}` };
      // Secret-scanning reporters: no signature can be made here, and SECRET_SCANNING_TOKEN is unset,
      // so these doors answer 401 throughout (test/secret-scanning.e2e-spec.ts covers their 200s).
      case 'github-signature':
      case 'secret-scanning-token':
        return {};
      default:
        throw new Error(`unknown security scheme ${scheme}`);
    }
  }

  function validPathValue(path: string, name: string): string {
    const door = path.startsWith('/api/webhooks')
      ? 'self'
      : path.startsWith('/api/admin/instances/{instanceRef}/webhooks')
        ? 'admin'
        : path.startsWith('/api/mica/developer/webhooks')
          ? 'mica'
          : undefined;
    if (door && name === 'id') return hooks[door].id;
    if (door && name === 'deliveryId') return hooks[door].deliveryId;
    if (name === 'instanceRef') return admin.ref;
    if (name === 'keyId' && path.startsWith('/api/admin/')) return admin.keyId;
    if (name === 'keyId' && path.startsWith('/api/keys')) return selfServiceTarget;
    if (name === 'keyId' && path.startsWith('/api/mica/developer')) return mica.targetKeyId;
    if (name === 'id') return 'CASP_000000000000000000000000';
    throw new Error(`no valid value for path parameter ${name} of ${path}`);
  }

  const resolve = (s: Schema | undefined): Schema => (s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : (s ?? {}));

  /** A value the schema accepts, as far as the schema says (ranges, lengths, enums, examples). */
  function validValue(s: Schema): unknown {
    if (s.example !== undefined) return s.example;
    if (s.enum) return s.enum[0];
    if (s.type === 'array') return s.items?.enum ? [s.items.enum[0]] : [];
    if (s.type === 'integer' || s.type === 'number') return s.minimum ?? 1;
    if (s.type === 'boolean') return true;
    return 'v'.repeat(Math.max(2, s.minLength ?? 2));
  }

  /** Boundary and invalid values of one field, beyond the generic BAD_STRINGS. */
  function edgeValues(s: Schema): unknown[] {
    const out: unknown[] = [];
    if (s.minimum !== undefined) out.push(s.minimum, s.minimum - 1);
    if (s.maximum !== undefined) out.push(s.maximum, s.maximum + 1);
    if (s.type === 'integer' || s.type === 'number') out.push('5', 1e308, -0.5);
    if (s.minLength !== undefined) out.push('v'.repeat(s.minLength), 'v'.repeat(Math.max(0, s.minLength - 1)));
    if (s.maxLength !== undefined) out.push('v'.repeat(s.maxLength), 'v'.repeat(s.maxLength + 1), '€'.repeat(s.maxLength));
    if (s.enum) out.push(...s.enum, String(s.enum[0]).toLowerCase(), 'NOT_A_VALUE');
    if (s.type === 'array') out.push(['NOT_A_VALUE'], [validValue(s.items ?? {}), validValue(s.items ?? {})], new Array(200).fill('x'));
    return out;
  }

  const encodeQuery = (pairs: Array<[string, unknown]>) =>
    pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`).join('&');

  function casesFor(path: string, method: string, op: Operation): Case[] {
    const params = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path');
    const queryParams = params.filter((p) => p.in === 'query');
    const fill = (over: Record<string, string> = {}) =>
      path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(over[name] ?? validPathValue(path, name)));
    const requiredQuery: Array<[string, unknown]> = queryParams.filter((p) => p.required).map((p) => [p.name, validValue(p.schema)]);
    const baseQuery = encodeQuery(requiredQuery);
    const bodySchema = op.requestBody ? resolve(op.requestBody.content?.['application/json']?.schema) : undefined;
    const validBody = bodySchema
      ? Object.fromEntries(Object.entries(bodySchema.properties ?? {}).map(([k, s]) => [k, validValue(s)]))
      : undefined;
    const withBody = method !== 'get';
    const cases: Case[] = [{ label: 'valid', path: fill(), query: baseQuery, body: withBody ? (validBody ?? {}) : undefined }];

    for (const p of pathParams) {
      for (const bad of BAD_PATH_VALUES)
        cases.push({
          label: `path ${p.name}=${JSON.stringify(bad).slice(0, 40)}`,
          path: fill({ [p.name]: bad }),
          query: baseQuery,
          body: withBody ? (validBody ?? {}) : undefined,
        });
    }
    for (const p of queryParams) {
      const others = requiredQuery.filter(([k]) => k !== p.name);
      for (const v of [...edgeValues(p.schema ?? {}), ...BAD_STRINGS.filter((b) => typeof b === 'string')]) {
        cases.push({
          label: `query ${p.name}=${JSON.stringify(v).slice(0, 40)}`,
          path: fill(),
          query: encodeQuery([...others, [p.name, v]]),
        });
      }
      cases.push({
        label: `query ${p.name} twice`,
        path: fill(),
        query: encodeQuery([...others, [p.name, validValue(p.schema ?? {})], [p.name, validValue(p.schema ?? {})]]),
      });
      if (p.required) cases.push({ label: `query ${p.name} missing`, path: fill(), query: encodeQuery(others) });
    }
    if (method === 'get')
      cases.push({ label: 'unknown query parameter', path: fill(), query: encodeQuery([...requiredQuery, ['unknownParameter', 'x']]) });

    if (withBody) {
      const base = validBody ?? {};
      cases.push({ label: 'body with an unknown field', path: fill(), body: { ...base, unknownField: 'x' } });
      for (const raw of [
        '[]',
        '"text"',
        '42',
        'null',
        '{"a":',
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"x":1}}}',
      ]) {
        cases.push({ label: `body ${raw}`, path: fill(), rawBody: raw });
      }
      for (const [field, s] of Object.entries(bodySchema?.properties ?? {})) {
        const rest = Object.fromEntries(Object.entries(base).filter(([k]) => k !== field));
        cases.push({ label: `body without ${field}`, path: fill(), body: rest });
        for (const v of [...edgeValues(s), ...BAD_STRINGS]) {
          cases.push({ label: `body ${field}=${JSON.stringify(v).slice(0, 40)}`, path: fill(), body: { ...base, [field]: v } });
        }
      }
    }
    return cases;
  }

  async function send(method: string, c: Case, headers: Record<string, string>): Promise<Response> {
    const url = c.query ? `${c.path}?${c.query}` : c.path;
    const req = t.http()[method as 'post'](url).set(headers);
    if (c.rawBody !== undefined) return req.set('Content-Type', 'application/json').send(c.rawBody);
    return c.body === undefined ? req : req.send(c.body as object);
  }

  function problemWith(path: string, op: Operation, res: Response): string | undefined {
    if (res.status >= 500) return `status ${res.status}`;
    if (!(String(res.status) in op.responses)) return `undocumented status ${res.status} (${res.body?.error?.code})`;
    if (res.headers['x-powered-by'] !== undefined || res.headers['x-content-type-options'] !== 'nosniff') return 'security headers missing';
    if (NOT_ENVELOPE.has(path)) return res.status === 200 ? undefined : envelopeProblem(res);
    return envelopeProblem(res);
  }

  // Every operation is called many times over: on a loaded 2-core machine that takes more than jest's 60 s.
  it('answers every operation, with and without a credential, in the envelope with a documented status and never a 5xx', async () => {
    const problems: string[] = [];
    // Destructive operations (revoke, delete, rotate, archive) run last, so earlier ones still find their targets.
    const destructive = (p: string, m: string) => m === 'delete' || /\/(revoke|rotate|archive)$/.test(p);
    const ordered = operations().sort((a, b) => Number(destructive(a.path, a.method)) - Number(destructive(b.path, b.method)));
    for (const { path, method, op } of ordered) {
      const cases = casesFor(path, method, op);
      // An empty requirement ({}) among the alternatives makes the credential optional (/api/metrics without METRICS_TOKEN).
      const required = !!op.security?.length && !op.security.some((r) => Object.keys(r).length === 0);
      const anonymous = required ? cases.slice(0, 3) : [];
      for (const c of cases) {
        const res = await send(method, c, credential(op));
        answers.push({ label: `${method.toUpperCase()} ${path} ${c.label}`, res });
        const problem = problemWith(path, op, res);
        if (problem) problems.push(`${method.toUpperCase()} ${path} [${c.label}] with credential: ${problem}`);
        // Rotating the management token ends the one in use: carry on with the new one.
        if (path === '/api/mica/developer/management-token/rotate' && res.status === 201) mica.token = res.body.data.managementToken;
      }
      for (const c of anonymous) {
        const wrong: Record<string, string> = { 'X-API-Key': 'trusset_mica_' + '0'.repeat(48), Authorization: 'Bearer wrong' };
        for (const headers of [{}, wrong]) {
          const res = await send(method, c, headers);
          answers.push({ label: `${method.toUpperCase()} ${path} ${c.label} anonymous`, res });
          if (res.status !== 401) problems.push(`${method.toUpperCase()} ${path} [${c.label}] without credential: ${res.status}, not 401`);
          const problem = problemWith(path, op, res);
          if (problem) problems.push(`${method.toUpperCase()} ${path} [${c.label}] without credential: ${problem}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(answers.length).toBeGreaterThan(1000);
  }, 240_000);

  it('never reveals SQL, stack traces, driver errors or digests in any answer', () => {
    expect(answers.length).toBeGreaterThan(0);
    // Answers that hand out a secret (key creation, registration, rotation) legitimately hold one 64-hex token.
    const leaks = answers
      .filter(({ res }) => res.status >= 400 && leakIn(res.text))
      .map(({ label, res }) => `${label}: ${leakIn(res.text)}`);
    expect(leaks).toEqual([]);
  });

  it('lists every served route', () => {
    const { router } = t.app.getHttpAdapter().getInstance() as ExpressApp;
    const served = router.stack
      .flatMap((layer) => (layer.route ? [layer.route] : []))
      .flatMap((route) => Object.keys(route.methods).map((m) => `${m.toUpperCase()} ${String(route.path).replace(/:(\w+)/g, '{$1}')}`))
      .filter((r) => !/ \/api\/docs/.test(r));
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    expect(served.length).toBeGreaterThan(30);
    expect(served.filter((r) => !documented.includes(r))).toEqual([]);
  });

  it('declares the security scheme and 401 of every protected operation', () => {
    const publicOps = ['GET /api/metrics', 'GET /api/health/live', 'GET /api/health/ready', 'POST /api/mica/developer/register'];
    for (const { path, method, op } of operations()) {
      const name = `${method.toUpperCase()} ${path}`;
      if (publicOps.includes(name)) continue;
      expect({ name, security: op.security?.length ?? 0, has401: '401' in op.responses }).toEqual({ name, security: 1, has401: true });
    }
  });

  it('documents 400 for every operation that takes a body or query parameters, and 413/415 wherever a body is read', () => {
    for (const { path, method, op } of operations()) {
      const name = `${method.toUpperCase()} ${path}`;
      const takesInput = !!op.requestBody || (op.parameters ?? []).some((p) => p.in === 'query') || method !== 'get';
      if (takesInput) expect({ name, has400: '400' in op.responses }).toEqual({ name, has400: true });
      if (method !== 'get')
        expect({ name, has413: '413' in op.responses, has415: '415' in op.responses }).toEqual({ name, has413: true, has415: true });
    }
  });
});
