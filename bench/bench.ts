/**
 * `npm run bench`: the key check's cost next to the server's own ceiling, on this machine, in one run.
 * Starts the built service as child processes against PostgreSQL (BENCH_DATABASE_URL, or a fresh
 * database on the local server that is dropped afterwards), drives them with autocannon and prints
 * one table. A script, not a test: CI does not run it and nothing asserts a timing.
 */
import { ChildProcess, execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { INSTANCE_KEY_LOOKUP } from '../src/auth/instance-key.verifier';
import { freshDatabase, startBuiltService } from './support';

const ROOT = resolve(__dirname, '..');
const ADMIN_TOKEN = randomBytes(32).toString('hex');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const SERVER_URL = process.env.BENCH_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Server {
  url: string;
  proc: ChildProcess;
  maxRssMb: number;
  sampler: NodeJS.Timeout;
}

interface Measure {
  rps: number;
  p99: number;
  non2xx: number;
}

const rows: Array<[string, string, string, string]> = [];

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function startServer(databaseUrl: string, env: Record<string, string> = {}): Promise<Server> {
  const { proc, url } = await startBuiltService(ROOT, databaseUrl, ADMIN_TOKEN, {
    RATE_LIMIT_PER_KEY_PER_MINUTE: '1000000000',
    RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '1000000000',
    RATE_LIMIT_STRICT_PER_MINUTE: '1000000000',
    MICA_RATE_LIMIT_PER_MINUTE: '1000000000',
    MICA_RATE_LIMIT_PER_DAY: '1000000000',
    DATABASE_POOL_SIZE: '20',
    ...env,
  });
  const sample = () => {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      if (rss) server.maxRssMb = Math.max(server.maxRssMb, Number(rss[1]) / 1024);
    } catch {
      /* process gone */
    }
  };
  const server: Server = { url, proc, maxRssMb: 0, sampler: setInterval(sample, 250) };
  return server;
}

async function stopServer(server: Server): Promise<void> {
  clearInterval(server.sampler);
  server.proc.kill('SIGTERM');
  await new Promise((r) => server.proc.once('exit', r));
}

async function api(server: Server, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as { data?: any; error?: any };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.error)}`);
  return json.data;
}

async function run(url: string, headers: Record<string, string>, opts: { connections?: number; seconds?: number; randomKey?: boolean } = {}): Promise<Measure> {
  const result = await autocannon({
    url,
    connections: opts.connections ?? CONNECTIONS,
    duration: opts.seconds ?? SECONDS,
    headers,
    requests: opts.randomKey
      ? [{ setupRequest: (req: any) => ({ ...req, headers: { ...req.headers, 'x-api-key': unknownKey() } }) }]
      : undefined,
  });
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx };
}

function unknownKey(): string {
  return `trusset_Zz9Yy8Xx_${randomBytes(32).toString('hex')}`;
}

function row(name: string, m: Measure | string, ratio: string): void {
  if (typeof m === 'string') rows.push([name, m, '', ratio]);
  else rows.push([name, `${Math.round(m.rps).toLocaleString('en')} req/s`, `${m.p99} ms`, ratio]);
  log(`${name}: ${typeof m === 'string' ? m : `${Math.round(m.rps)} req/s, p99 ${m.p99} ms, non-2xx ${m.non2xx}`} ${ratio}`);
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

/** Adds `count` keys (revoked, under a filler instance) so lookups run against a table of that size. */
async function fillKeys(db: Client, total: number): Promise<void> {
  const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM instance_keys')).rows;
  if (n >= total) return;
  const [{ id }] = (
    await db.query(`INSERT INTO instances (ref, name, services, status) VALUES (substr(md5(random()::text), 1, 8), 'bench filler', '{}', 'ARCHIVED') RETURNING id`)
  ).rows;
  const batch = 100_000;
  for (let done = n; done < total; done += batch) {
    const size = Math.min(batch, total - done);
    await db.query(
      `INSERT INTO instance_keys (instance_id, name, key_digest, key_prefix, key_hint, status, revoked_at)
       SELECT $1, 'filler', sha256(convert_to(gen_random_uuid()::text || g::text, 'UTF8')), 'trusset_filler', 'xxxx', 'REVOKED', now()
         FROM generate_series(1, $2) AS g`,
      [id, size],
    );
  }
  await db.query('ANALYZE instance_keys');
}

async function lookupTiming(db: Client, key: string): Promise<{ plan: string; ms: number }> {
  const digests = [createHash('sha256').update(key).digest()];
  const plan = (await db.query(`EXPLAIN ${INSTANCE_KEY_LOOKUP}`, [digests])).rows.map((r: any) => r['QUERY PLAN']).join(' / ');
  const runs = 2000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await db.query(INSTANCE_KEY_LOOKUP, [digests]);
  return { plan, ms: Number(process.hrtime.bigint() - t0) / 1e6 / runs };
}

async function propagation(a: Server, b: Server, instanceRef: string): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    const created = await api(a, 'POST', `/api/admin/instances/${instanceRef}/keys`, { name: `prop${i}` });
    const headers = { 'X-API-Key': created.key };
    for (let w = 0; w < 3; w++) await fetch(`${b.url}/api/auth/verify`, { headers });
    const t0 = process.hrtime.bigint();
    await api(a, 'POST', `/api/admin/instances/${instanceRef}/keys/${created.id}/revoke`);
    for (;;) {
      const res = await fetch(`${b.url}/api/auth/verify`, { headers });
      if (res.status === 401) break;
      if (Number(process.hrtime.bigint() - t0) / 1e6 > 5000) throw new Error('revocation not seen by the other replica within 5 s');
    }
    delays.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return delays.sort((x, y) => x - y);
}

async function main(): Promise<void> {
  log('building');
  execSync('npx nest build', { cwd: ROOT, stdio: 'inherit' });
  const database = await freshDatabase(SERVER_URL, 'trusset_bench', process.env.BENCH_DATABASE_URL);
  const db = new Client({ connectionString: database.url });
  const servers: Server[] = [];
  try {
    const a = await startServer(database.url);
    servers.push(a);
    await db.connect();
    const created = await api(a, 'POST', '/api/admin/instances', { name: 'bench', services: ['trading'] });
    const instanceRef: string = created.instance.instanceRef;
    const key: string = created.key.key;
    const mica = await api(a, 'POST', '/api/mica/developer/register', { name: 'Bench', email: `bench-${Date.now()}@example.com` });
    const micaKey: string = mica.apiKey;
    const verifyUrl = `${a.url}/api/auth/verify?service=trading`;

    log('warming up');
    await run(`${a.url}/api/health/live`, {}, { seconds: 3 });
    await run(verifyUrl, { 'X-API-Key': key }, { seconds: 3 });

    const ceiling = await run(`${a.url}/api/health/live`, {});
    row('ceiling: GET /api/health/live', ceiling, '1.00×');
    const cached = await run(verifyUrl, { 'X-API-Key': key });
    row('valid key, cached: GET /api/auth/verify', cached, `${ratio(cached.rps, ceiling.rps)} rps, ${ratio(cached.p99 || 1, ceiling.p99 || 1)} p99`);
    const micaRun = await run(`${a.url}/api/mica/v1/health`, { 'X-API-Key': micaKey });
    row('MiCA key: GET /api/mica/v1/health', micaRun, `${ratio(micaRun.rps, ceiling.rps)} rps, ${ratio(micaRun.p99 || 1, ceiling.p99 || 1)} p99`);

    const stats = async () => Number((await db.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0].n);
    const before = await stats();
    const malformed = await run(verifyUrl, { 'X-API-Key': 'trusset_short_key' }, { seconds: 5 });
    const dbWork = (await stats()) - before;
    row('malformed key (401)', malformed, `${ratio(malformed.rps, ceiling.rps)} rps; ${dbWork} db transactions for ${Math.round(malformed.rps * 5).toLocaleString('en')} requests`);

    const flood = await run(verifyUrl, {}, { randomKey: true });
    row('unknown-key flood (401)', flood, ratio(flood.rps, ceiling.rps));
    const validAlone = await run(verifyUrl, { 'X-API-Key': key }, { connections: 10 });
    const [validDuringFlood] = await Promise.all([
      run(verifyUrl, { 'X-API-Key': key }, { connections: 10 }),
      run(verifyUrl, {}, { connections: 40, randomKey: true }),
    ]);
    row('valid key p99 during the flood vs alone', `${validDuringFlood.p99} ms vs ${validAlone.p99} ms`, ratio(validDuringFlood.p99 || 1, validAlone.p99 || 1));

    const b = await startServer(database.url, { KEY_CACHE_MAX_ENTRIES: '0' });
    servers.push(b);
    await run(`${b.url}/api/auth/verify?service=trading`, { 'X-API-Key': key }, { seconds: 3 });
    const ceilingB = await run(`${b.url}/api/health/live`, {});
    const uncached = await run(`${b.url}/api/auth/verify?service=trading`, { 'X-API-Key': key });
    row('valid key, uncached (cache off)', uncached, `${ratio(uncached.rps, ceilingB.rps)} of that server's ceiling`);

    await fillKeys(db, 1_000);
    const small = await lookupTiming(db, key);
    const small1k = await run(`${b.url}/api/auth/verify?service=trading`, { 'X-API-Key': key }, { seconds: 5 });
    log('filling instance_keys to 1,000,000 rows');
    await fillKeys(db, 1_000_000);
    const large = await lookupTiming(db, key);
    const large1m = await run(`${b.url}/api/auth/verify?service=trading`, { 'X-API-Key': key }, { seconds: 5 });
    row('uncached lookup, 1k keys', `${small.ms.toFixed(3)} ms/query; ${Math.round(small1k.rps)} req/s`, '1.00×');
    row('uncached lookup, 1M keys', `${large.ms.toFixed(3)} ms/query; ${Math.round(large1m.rps)} req/s`, `${ratio(large.ms, small.ms)} time; ${ratio(large1m.rps, small1k.rps)} rps`);
    log(`plan at 1M keys: ${large.plan}`);

    const c = await startServer(database.url);
    servers.push(c);
    const delays = await propagation(a, c, instanceRef);
    row('revocation seen by another replica', `median ${delays[5].toFixed(1)} ms, max ${delays[9].toFixed(1)} ms`, `${(delays[9] / 1000).toFixed(3)} s of 1 s`);
    row('server RSS under load (max)', `${Math.round(a.maxRssMb)} MB`, `${(a.maxRssMb / 300).toFixed(2)} of 300 MB`);
  } finally {
    for (const s of servers) await stopServer(s).catch(() => undefined);
    await db.end().catch(() => undefined);
    await database.drop().catch(() => undefined);
  }

  const header = ['measure', 'result', 'p99', 'ratio'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  process.stdout.write(`\nMachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per run\n\n${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  process.exit(1);
});
