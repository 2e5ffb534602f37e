import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { startTestApp, TestApp } from './support/test-app';

const FIXTURES = path.resolve(__dirname, 'fixtures/esma');
const REGISTERS = ['CASPS', 'ARTZZ', 'EMTWP', 'OTHER', 'NCASP'];

/** Serves CSV files like ESMA's web server: strong ETags, Last-Modified, 304 on a matching conditional GET. */
class FakeEsma {
  readonly requests: IncomingMessage[] = [];
  private files = new Map<string, { body: Buffer; etag: string }>();
  private server!: Server;
  port = 0;

  serve(folder: string, version: string): void {
    this.files = new Map(
      REGISTERS.map((r) => [`/files/${r}.csv`, { body: readFileSync(path.join(folder, `${r}.csv`)), etag: `"${r}-${version}"` }]),
    );
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push(req);
      const file = this.files.get(req.url ?? '');
      if (!file) return void res.writeHead(404).end('not found');
      if (req.headers['if-none-match'] === file.etag) return void res.writeHead(304, { ETag: file.etag }).end();
      res.writeHead(200, { 'Content-Type': 'text/csv', ETag: file.etag, 'Last-Modified': 'Mon, 17 Aug 2026 08:00:00 GMT' }).end(file.body);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function micaKey(t: TestApp): Promise<string> {
  const res = await t
    .http()
    .post('/api/mica/developer/register')
    .send({ name: 'Register Tester', email: `register.${randomUUID()}@example.com` })
    .expect(201);
  return res.body.data.apiKey;
}

/** The register is one shared data set: each suite starts from an empty one. */
async function emptyRegister(t: TestApp): Promise<void> {
  await t.dataSource.query('TRUNCATE mica_issuers, mica_changes, mica_register_files, mica_sync_runs');
}

describe('MiCA register data (hand-written ESMA fixtures)', () => {
  const esma = new FakeEsma();
  let t: TestApp;
  let key: string;
  const get = (url: string, query: object = {}) => t.http().get(`/api/mica/v1${url}`).query(query).set('X-API-Key', key);
  const sync = (body: object = {}) => t.http().post('/api/admin/mica/sync').set(t.admin).send(body);
  const byName = async (name: string) =>
    (await get('/issuers', { search: name })).body.data.find((i: { entityName: string }) => i.entityName === name);

  beforeAll(async () => {
    await esma.start();
    esma.serve(path.join(FIXTURES, 'week1'), 'w1');
    t = await startTestApp({ MICA_RATE_LIMIT_PER_MINUTE: '100000', MICA_SYNC_URL: `http://127.0.0.1:${esma.port}/files` });
    await emptyRegister(t);
    key = await micaKey(t);
  });
  afterAll(async () => {
    await emptyRegister(t);
    await t.close();
    await esma.stop().catch(() => undefined);
  });

  it('answers an empty register with source "empty" before any import', async () => {
    const res = await get('/issuers').expect(200);
    expect(res.body.data).toEqual([]);
    expect(res.body.metadata.source).toBe('empty');
    expect(res.headers['x-data-source']).toBe('empty');
    expect(res.headers['x-total-count']).toBe('0');
  });

  it('refuses the data routes without a MiCA key or with an instance-style key', async () => {
    for (const url of ['/issuers', '/search?q=alpha', '/statistics', '/license-types', '/countries', '/changes', '/issuers/casp_x']) {
      const res = await t.http().get(`/api/mica/v1${url}`).expect(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
    await t
      .http()
      .get('/api/mica/v1/issuers')
      .set('X-API-Key', 'trusset_mica_' + '0'.repeat(48))
      .expect(401);
  });

  it('syncs from the configured URL, then asks conditionally and keeps the data on 304', async () => {
    const first = await sync().expect(200);
    expect(first.body.data.ok).toBe(true);
    expect(
      first.body.data.registers.map((r: { register: string; outcome: string; rows: number }) => [r.register, r.outcome, r.rows]),
    ).toEqual([
      ['CASPS', 'imported', 5],
      ['ARTZZ', 'imported', 0],
      ['EMTWP', 'imported', 2],
      ['OTHER', 'imported', 3],
      ['NCASP', 'imported', 3],
    ]);
    esma.requests.length = 0;
    const again = await sync().expect(200);
    expect(again.body.data.registers.every((r: { outcome: string }) => r.outcome === 'not_modified')).toBe(true);
    expect(esma.requests.map((r) => r.headers['if-none-match'])).toEqual(REGISTERS.map((r) => `"${r}-w1"`));
    expect(esma.requests.every((r) => r.headers['if-modified-since'] === 'Mon, 17 Aug 2026 08:00:00 GMT')).toBe(true);
    expect((await get('/issuers').expect(200)).body.pagination.total).toBe(13);
  });

  it('records the admin sync in the audit trail', async () => {
    const rows = await t.dataSource.query(
      `SELECT actor_type, details FROM audit_events WHERE action = 'mica.register.synced' ORDER BY at DESC LIMIT 1`,
    );
    expect(rows[0].actor_type).toBe('admin');
    expect(rows[0].details.registers).toHaveLength(5);
  });

  it('changes nothing when the same files are imported again from a folder', async () => {
    const before = await t.dataSource.query(`SELECT id, updated_at, source_sha256 FROM mica_issuers ORDER BY id`);
    const changesBefore = (await get('/changes').expect(200)).body.pagination.total;
    const res = await sync({ folder: path.join(FIXTURES, 'week1') }).expect(200);
    expect(res.body.data.registers.map((r: { outcome: string }) => r.outcome)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
    expect(await t.dataSource.query(`SELECT id, updated_at, source_sha256 FROM mica_issuers ORDER BY id`)).toEqual(before);
    expect((await get('/changes').expect(200)).body.pagination.total).toBe(changesBefore);
  });

  it('lists with the envelope, pagination, data-source headers and a 300 s cache', async () => {
    const res = await get('/issuers', { limit: 2, offset: 1 }).expect(200);
    expect(res.body.pagination).toEqual({ total: 13, returned: 2, limit: 2, offset: 1, hasMore: true });
    expect(res.body.metadata).toMatchObject({ source: 'database', requestId: expect.any(String) });
    expect(res.headers).toMatchObject({ 'x-total-count': '13', 'x-data-source': 'database', 'cache-control': 'private, max-age=300' });
    expect(res.headers['x-ratelimit-limit-minute']).toBe('100000');
  });

  it('serves one normalised record by its id with its source file version', async () => {
    const beta = await byName('Beta Exchange AE');
    const res = await get(`/issuers/${beta.id}`).expect(200);
    expect(res.headers['cache-control']).toBe('private, max-age=300');
    expect(res.body.data).toMatchObject({
      entityName: 'Beta Exchange AE',
      entityIdentifier: '213800BETA0000000023',
      licenseType: 'CASP',
      entityType: 'provider',
      country: 'Greece',
      countryCode: 'GR',
      nationalAuthority: 'Hellenic Capital Market Commission (HCMC)',
      commercialName: 'Beta',
      website: 'https://beta.example',
      websitePlatform: 'https://app.beta.example',
      authorizationDate: '2025-07-01',
      authorizationEndDate: null,
      passportedCountries: ['CY', 'GR'],
      status: 'active',
      comments: 'Two-line\ncomment',
    });
    expect(res.body.data.services).toEqual([
      { code: 'c', label: 'exchange of crypto-assets for funds' },
      { code: 'd', label: 'exchange of crypto-assets for other crypto-assets' },
      { code: 'e', label: 'execution of orders for crypto-assets on behalf of clients' },
    ]);
    expect(res.body.data.source).toEqual({
      register: 'CASPS',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      fetchedAt: expect.any(String),
    });
  });

  it('answers 404 for an unknown id and 400 for an id over 100 characters', async () => {
    expect((await get('/issuers/casp_000000000000000000000000').expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await get(`/issuers/${'x'.repeat(101)}`).expect(400)).body.error.code).toBe('VALIDATION_ERROR');
  });

  it('filters by licence types, country code or name (Greece as GR or EL), status and entity type', async () => {
    const names = async (query: Record<string, string>) =>
      (await get('/issuers', { ...query, sortBy: 'entityName' }).expect(200)).body.data.map((i: { entityName: string }) => i.entityName);
    expect(await names({ licenseType: 'CASP' })).toHaveLength(5);
    expect(await names({ licenseType: 'casp, non_compliant' })).toHaveLength(8);
    expect(await names({ country: 'EL' })).toEqual(['Beta Exchange AE']);
    expect(await names({ country: 'GR' })).toEqual(['Beta Exchange AE']);
    expect(await names({ country: 'gree' })).toEqual(['Beta Exchange AE']);
    expect(await names({ country: 'DE,netherlands', licenseType: 'CASP' })).toEqual([
      'Alpha Crypto GmbH',
      'Delta Trading B.V.',
      'Epsilon Capit\ufffdl GmbH',
    ]);
    expect(await names({ status: 'expired' })).toEqual(['Gamma Custody S.A.']);
    expect(await names({ status: 'non_compliant' })).toEqual(['Scam Coin', 'Scam Coin', 'Tulip Trade']);
    expect(await names({ entityType: 'whitepaper' })).toEqual(['Delaware Coin Inc', 'Foundation Without LEI', 'Skyward Token GmbH']);
    expect(await names({ search: 'bafin' })).toEqual(['Alpha Crypto GmbH', 'Epsilon Capit\ufffdl GmbH']);
    expect(await names({ search: '724500DELTA' })).toEqual(['Delta Trading B.V.']);
  });

  it('sorts by each documented field and projects the requested fields', async () => {
    const dates = (await get('/issuers', { licenseType: 'CASP' }).expect(200)).body.data.map(
      (i: { authorizationDate: string }) => i.authorizationDate,
    );
    expect(dates).toEqual(['2025-07-01', '2025-04-09', '2025-03-03', '2025-02-20', '2025-01-15']);
    const codes = (await get('/issuers', { licenseType: 'CASP', sortBy: 'countryCode', sortOrder: 'desc' }).expect(200)).body.data.map(
      (i: { countryCode: string }) => i.countryCode,
    );
    expect(codes).toEqual(['NL', 'GR', 'FR', 'DE', 'DE']);
    const statuses = (await get('/issuers', { licenseType: 'CASP', sortBy: 'status' }).expect(200)).body.data.map(
      (i: { status: string }) => i.status,
    );
    expect(statuses).toEqual(['active', 'active', 'active', 'active', 'expired']);
    const types = (await get('/issuers', { sortBy: 'licenseType', limit: 1 }).expect(200)).body.data[0].licenseType;
    expect(types).toBe('CASP');
    const projected = await get('/issuers', { fields: 'entityName,countryCode', limit: 1 }).expect(200);
    expect(Object.keys(projected.body.data[0]).sort()).toEqual(['countryCode', 'entityName', 'id']);
  });

  it.each([
    { limit: '0' },
    { limit: '501' },
    { offset: '-1' },
    { licenseType: 'BANK' },
    { status: 'revoked' },
    { entityType: 'bank' },
    { search: 'x'.repeat(201) },
    { sortBy: 'address' },
    { sortOrder: 'up' },
    { fields: 'entityName,secret' },
    { country: 'x'.repeat(101) },
    { unknown: '1' },
  ])('refuses the list query %p with VALIDATION_ERROR', async (query) => {
    expect((await get('/issuers', query).expect(400)).body.error.code).toBe('VALIDATION_ERROR');
  });

  it('searches names, LEIs and authorities, best match first, with a 120 s cache', async () => {
    const res = await get('/search', { q: 'Beta Exchange' }).expect(200);
    expect(res.body.data[0].entityName).toBe('Beta Exchange AE');
    expect(res.headers).toMatchObject({ 'cache-control': 'private, max-age=120', 'x-data-source': 'database' });
    expect(res.body.pagination.limit).toBe(20);
    expect((await get('/search', { q: 'exchange beta' }).expect(200)).body.data[0].entityName).toBe('Beta Exchange AE');
    expect((await get('/search', { q: '315700stable' }).expect(200)).body.pagination.total).toBe(2);
    expect((await get('/search', { q: 'no such entity anywhere' }).expect(200)).body.data).toEqual([]);
    for (const q of [{ q: 'a' }, { q: 'x'.repeat(201) }, {}, { q: 'alpha', limit: 101 }]) {
      expect((await get('/search', q).expect(400)).body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('counts by licence type, status and service, lists countries by count and licence types, with a 600 s cache', async () => {
    const stats = await get('/statistics').expect(200);
    expect(stats.headers['cache-control']).toBe('private, max-age=600');
    expect(stats.body.data).toMatchObject({
      totalIssuers: 13,
      byLicenseType: { CASP: 5, ART: 0, EMT: 2, OTHER: 3, NON_COMPLIANT: 3 },
      byStatus: { active: 9, expired: 1, non_compliant: 3 },
      byEntityType: { provider: 5, issuer: 2, whitepaper: 3, non_compliant: 3 },
    });
    expect(stats.body.data.byService).toMatchObject({ a: 2, c: 3, d: 2, e: 1, f: 1, g: 1, h: 1, i: 1 });
    expect(stats.body.data.registers).toHaveLength(5);
    const countries = await get('/countries').expect(200);
    expect(countries.headers['cache-control']).toBe('private, max-age=600');
    expect(countries.body.data.map((c: { countryCode: string }) => c.countryCode)).toEqual([
      'CZ',
      'DE',
      'IT',
      'NL',
      'AT',
      'FR',
      'GR',
      'IE',
      'MT',
    ]);
    expect(countries.body.data[1]).toEqual({ countryCode: 'DE', country: 'Germany', count: 2 });
    const counts = countries.body.data.map((c: { count: number }) => c.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    const types = await get('/license-types').expect(200);
    expect(types.body.data.map((l: { code: string; count: number }) => [l.code, l.count])).toEqual([
      ['CASP', 5],
      ['ART', 0],
      ['EMT', 2],
      ['OTHER', 3],
      ['NON_COMPLIANT', 3],
    ]);
  });

  it('imports the next week: keeps ids of moved rows, and lists what was added, changed and removed since', async () => {
    const alpha = await byName('Alpha Crypto GmbH');
    const gamma = await byName('Gamma Custody S.A.');
    const since = (await t.dataSource.query(`SELECT now() AS now`))[0].now.toISOString();
    const res = await sync({ folder: path.join(FIXTURES, 'week2') }).expect(200);
    expect(res.body.data.registers[0]).toMatchObject({ register: 'CASPS', outcome: 'imported', rows: 5, added: 1, changed: 1, removed: 1 });
    expect(res.body.data.registers.slice(1).every((r: { outcome: string }) => r.outcome === 'unchanged')).toBe(true);

    const alpha2 = (await get(`/issuers/${alpha.id}`).expect(200)).body.data;
    expect(alpha2.services.map((s: { code: string }) => s.code)).toEqual(['a', 'c', 'j']);
    expect(alpha2.source.sha256).not.toBe(alpha.source.sha256);
    expect((await get(`/issuers/${gamma.id}`).expect(200)).body.data.source.sha256).toBe(alpha2.source.sha256);

    const changes = await get('/changes', { since }).expect(200);
    expect(changes.body.data.map((c: { change: string; entityName: string }) => [c.change, c.entityName]).sort()).toEqual([
      ['added', 'Zeta Pay Oy'],
      ['changed', 'Alpha Crypto GmbH'],
      ['removed', 'Delta Trading B.V.'],
    ]);
    const changed = changes.body.data.find((c: { change: string }) => c.change === 'changed');
    expect(changed.fields).toEqual(['services', 'passportedCountries', 'comments', 'details']);
    expect(changed.issuerId).toBe(alpha.id);
    expect((await get('/changes', { since: new Date(Date.now() + 60_000).toISOString() }).expect(200)).body.data).toEqual([]);
    expect((await get('/changes', { since: 'last week' }).expect(400)).body.error.code).toBe('VALIDATION_ERROR');
    expect(await byName('Delta Trading B.V.')).toBeUndefined();
  });

  it('refuses an unparsable or truncated file and keeps serving the previous data', async () => {
    const sha = (await byName('Alpha Crypto GmbH')).source.sha256;
    for (const folder of ['broken', 'truncated']) {
      const res = await sync({ folder: path.join(FIXTURES, folder) }).expect(200);
      expect(res.body.data.ok).toBe(false);
      expect(res.body.data.registers[0]).toMatchObject({
        register: 'CASPS',
        outcome: 'rejected',
        message: expect.stringMatching(folder === 'broken' ? /not valid CSV/ : /truncated/),
      });
      expect(res.body.data.registers.slice(1).every((r: { outcome: string }) => r.outcome === 'failed')).toBe(true);
    }
    expect((await get('/issuers', { licenseType: 'CASP' }).expect(200)).body.pagination.total).toBe(5);
    expect((await byName('Alpha Crypto GmbH')).source.sha256).toBe(sha);
  });

  it('keeps the data and the last successful sync in health when ESMA is unreachable', async () => {
    const healthBefore = (await get('/health').expect(200)).body.data;
    expect(healthBefore).toMatchObject({ status: 'ok', totalIssuers: 13, lastSync: expect.any(String) });
    await esma.stop();
    const res = await sync().expect(200);
    expect(res.body.data.ok).toBe(false);
    expect(
      res.body.data.registers.every(
        (r: { outcome: string; message: string }) => r.outcome === 'failed' && /could not be fetched/.test(r.message),
      ),
    ).toBe(true);
    expect((await get('/health').expect(200)).body.data).toEqual(healthBefore);
    expect((await get('/issuers').expect(200)).body.pagination.total).toBe(13);
  });

  it('documents every register route in OpenAPI', async () => {
    const doc = (await t.http().get('/api/docs-json').expect(200)).body;
    for (const route of ['issuers', 'issuers/{id}', 'search', 'statistics', 'license-types', 'countries', 'changes']) {
      expect(doc.paths[`/api/mica/v1/${route}`]?.get?.summary).toEqual(expect.any(String));
    }
    expect(doc.paths['/api/admin/mica/sync'].post.summary).toEqual(expect.any(String));
  });

  it('refuses an admin sync without credentials and a folder that is not text', async () => {
    await t.http().post('/api/admin/mica/sync').send({}).expect(401);
    expect((await sync({ folder: 42 }).expect(400)).body.error.code).toBe('VALIDATION_ERROR');
    expect((await sync({ url: 'http://example.com' }).expect(400)).body.error.code).toBe('VALIDATION_ERROR');
  });
});

const ESMA_DIR = path.resolve(__dirname, '../../shared/esma');
const describeWithEsmaFiles = existsSync(ESMA_DIR) ? describe : describe.skip;

/** A folder (outside the project) holding the current files, with CASPS.csv replaced by `casps`. */
function esmaFolder(casps: Buffer): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'esma-'));
  for (const r of REGISTERS)
    writeFileSync(path.join(dir, `${r}.csv`), r === 'CASPS' ? casps : readFileSync(path.join(ESMA_DIR, `${r}.csv`)));
  return dir;
}

describeWithEsmaFiles(`MiCA register data (ESMA's real files from ../shared/esma; skipped when that folder is absent)`, () => {
  let t: TestApp;
  let key: string;
  const get = (url: string, query: object = {}) => t.http().get(`/api/mica/v1${url}`).query(query).set('X-API-Key', key);
  const sync = (folder: string) => t.http().post('/api/admin/mica/sync').set(t.admin).send({ folder }).expect(200);
  const total = async (query: object) => (await get('/issuers', { ...query, limit: 1 }).expect(200)).body.pagination.total;
  const bitpanda = async () => (await get('/search', { q: 'Bitpanda' }).expect(200)).body.data[0];
  const ids = async () => (await t.dataSource.query(`SELECT id FROM mica_issuers ORDER BY id`)).map((r: { id: string }) => r.id);

  beforeAll(async () => {
    t = await startTestApp({ MICA_RATE_LIMIT_PER_MINUTE: '100000' });
    await emptyRegister(t);
    key = await micaKey(t);
  });
  afterAll(async () => {
    await emptyRegister(t);
    await t.close();
  });

  it('imports two older CASPS weeks, then the current files: 1,270 records with stable ids', async () => {
    const feb = await sync(esmaFolder(readFileSync(path.join(ESMA_DIR, 'older/CASPS-2026-02-09.csv'))));
    expect(feb.body.data.registers[0]).toMatchObject({ outcome: 'imported', rows: 150 });
    const june = await sync(esmaFolder(readFileSync(path.join(ESMA_DIR, 'older/CASPS-2026-06-28.csv'))));
    expect(june.body.data.registers[0]).toMatchObject({ outcome: 'imported', rows: 244 });
    const before = await bitpanda();

    const current = await sync(ESMA_DIR);
    expect(current.body.data.ok).toBe(true);
    expect(current.body.data.registers[0]).toMatchObject({ register: 'CASPS', outcome: 'imported', rows: 329 });
    const casps = current.body.data.registers[0];
    expect(casps.added - casps.removed).toBe(329 - 244);

    const stats = (await get('/statistics').expect(200)).body.data;
    expect(stats.totalIssuers).toBe(1270);
    expect(stats.byLicenseType).toEqual({ CASP: 329, ART: 0, EMT: 42, OTHER: 732, NON_COMPLIANT: 167 });
    expect(await total({})).toBe(1270);

    const after = await bitpanda();
    expect(after).toMatchObject({
      id: before.id,
      entityName: 'Bitpanda GmbH',
      entityIdentifier: '5493007WZ7IFULIL8G21',
      countryCode: 'AT',
    });
    expect((await get('/search', { q: '5493007WZ7IFULIL8G21' }).expect(200)).body.data[0].id).toBe(before.id);
  });

  it('finds 73 German CASPs and Greece whether ESMA wrote EL or GR', async () => {
    expect(await total({ licenseType: 'CASP', country: 'DE' })).toBe(73);
    expect(await total({ licenseType: 'CASP', country: 'germany' })).toBe(73);
    expect(await total({ country: 'EL' })).toBe(await total({ country: 'GR' }));
    const raw = parse<Record<string, string>>(readFileSync(path.join(ESMA_DIR, 'CASPS.csv')), {
      bom: true,
      columns: true,
      relax_column_count: true,
    });
    const toGreece = raw.filter((r) => /(^|[^A-Z])(EL|GR)([^A-Z]|$)/.test(r.ac_serviceCode_cou)).length;
    expect(raw.some((r) => /(^|\|)EL(\||$)/.test(r.ac_serviceCode_cou))).toBe(true);
    const [{ gr, el }] = await t.dataSource.query(
      `SELECT count(*) FILTER (WHERE 'GR' = ANY(passported_countries))::int AS gr, count(*) FILTER (WHERE 'EL' = ANY(passported_countries))::int AS el FROM mica_issuers WHERE register = 'CASPS'`,
    );
    expect({ gr, el }).toEqual({ gr: toGreece, el: 0 });
  });

  it('changes nothing when the same files are imported again', async () => {
    const before = await ids();
    const changes = (await get('/changes').expect(200)).body.pagination.total;
    const again = await sync(ESMA_DIR);
    expect(again.body.data.registers.map((r: { outcome: string }) => r.outcome)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
    expect(await ids()).toEqual(before);
    expect((await get('/changes').expect(200)).body.pagination.total).toBe(changes);
  });

  it('refuses a truncated or broken CASPS file and keeps the 1,270 records', async () => {
    const current = readFileSync(path.join(ESMA_DIR, 'CASPS.csv'));
    const firstLines = Buffer.from(current.toString('utf8').split('\r\n').slice(0, 30).join('\r\n'));
    const unclosed = Buffer.concat([current, Buffer.from('BaFin,DE,"Broken GmbH,529900BROKEN0000000\r\n')]);
    for (const casps of [firstLines, unclosed]) {
      const res = await sync(esmaFolder(casps));
      expect(res.body.data.ok).toBe(false);
      expect(res.body.data.registers[0]).toMatchObject({ register: 'CASPS', outcome: 'rejected' });
    }
    expect(await total({ licenseType: 'CASP' })).toBe(329);
    expect(await total({})).toBe(1270);
  });
});

describe('MiCA register data: scheduled sync', () => {
  const esma = new FakeEsma();
  let t: TestApp;

  beforeAll(async () => {
    await esma.start();
    esma.serve(path.join(FIXTURES, 'week1'), 'w1');
    t = await startTestApp({
      MICA_RATE_LIMIT_PER_MINUTE: '100000',
      MICA_SYNC_URL: `http://127.0.0.1:${esma.port}/files`,
      MICA_SYNC_INTERVAL: '60',
    });
    await emptyRegister(t);
  });
  afterAll(async () => {
    await emptyRegister(t);
    await t.close();
    await esma.stop();
  });

  it('syncs from MICA_SYNC_URL shortly after start when a schedule is configured', async () => {
    const key = await micaKey(t);
    let health = { totalIssuers: 0, lastSync: null as string | null };
    for (let i = 0; i < 50 && !health.lastSync; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      health = (await t.http().get('/api/mica/v1/health').set('X-API-Key', key).expect(200)).body.data;
    }
    expect(health).toMatchObject({ totalIssuers: 13, lastSync: expect.any(String) });
    const [run] = await t.dataSource.query(`SELECT trigger, ok FROM mica_sync_runs ORDER BY finished_at DESC LIMIT 1`);
    expect(run).toEqual({ trigger: 'schedule', ok: true });
  });
});
