import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { effectiveStatusSql } from '../src/domain/instance-key.state';
import { onPostgresServer } from './support/test-app';
import { buildService } from './support/build-service';

/**
 * The built service as a real process (dist/src/main.js, NODE_ENV=production) on its own database:
 * killed with SIGKILL in the middle of a burst of key changes, the database must still hold every
 * invariant the transactions promise, and the service must start again on it; stopped with SIGTERM,
 * in-flight requests must finish and the process exit 0.
 */

const ROOT = resolve(__dirname, '..');
const ADMIN_TOKEN = `crash-admin-${randomBytes(24).toString('hex')}`;
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
const CAP = 10;

interface Service {
  proc: ChildProcess;
  url: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function startService(databaseUrl: string, env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      ADMIN_TOKEN,
      SECRETS_KEY: 'crash-consistency-secrets-key-0123456789',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`service exited with ${proc.exitCode} at start: ${stderr}`);
    const ok = await fetch(`${url}/api/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`service not ready within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url, exit, stderr: () => stderr };
}

async function call(svc: Service, method: string, path: string, body?: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(`${svc.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

interface Issued {
  id: string;
  key: string;
  instanceId: string;
}

interface BurstInstance {
  id: string;
  ref: string;
  keys: Issued[];
}

/** One instance with its Default key and `extra` more, all through the admin door. */
async function seedInstance(svc: Service, extra: number): Promise<BurstInstance> {
  const created = await call(svc, 'POST', '/api/admin/instances', { name: 'Crash target', services: ['trading'] });
  expect(created.status).toBe(201);
  const inst: BurstInstance = { id: created.body.data.instance.id, ref: created.body.data.instance.instanceRef, keys: [] };
  inst.keys.push({ id: created.body.data.key.id, key: created.body.data.key.key, instanceId: inst.id });
  for (let i = 0; i < extra; i++) {
    const k = await call(svc, 'POST', `/api/admin/instances/${inst.ref}/keys`, { name: `seed ${i}` });
    expect(k.status).toBe(201);
    inst.keys.push({ id: k.body.data.id, key: k.body.data.key, instanceId: inst.id });
  }
  return inst;
}

/**
 * Fires creates, rotations, revocations and pauses at every instance at once (several aimed at the
 * same key, so they race) and SIGKILLs the service when `killAfter` of them have been answered:
 * the rest are in flight, some inside their transaction.
 */
async function burstAndKill(svc: Service, instances: BurstInstance[], killAfter: number): Promise<{ answered: number; issued: Issued[] }> {
  const issued: Issued[] = [];
  let answered = 0;
  const ops: Array<() => Promise<unknown>> = [];
  for (const inst of instances) {
    const base = `/api/admin/instances/${inst.ref}/keys`;
    for (let i = 0; i < 30; i++) {
      const target = inst.keys[i % inst.keys.length].id;
      const [method, path, body] = (
        [
          ['POST', base, { name: `burst ${i}` }],
          ['POST', `${base}/${target}/rotate`, { overlapSeconds: i % 2 ? 600 : 0 }],
          ['POST', `${base}/${target}/revoke`, undefined],
          ['POST', `${base}/${target}/pause`, { durationSeconds: 600 }],
          ['POST', base, { name: `burst ${i}` }],
        ] as const
      )[i % 5];
      ops.push(async () => {
        const res = await call(svc, method, path, body);
        if (res.status === 201 && res.body.data?.key) issued.push({ id: res.body.data.id, key: res.body.data.key, instanceId: inst.id });
        if (++answered === killAfter) svc.proc.kill('SIGKILL');
      });
    }
  }
  // Requests cut off by the kill fail on the client side; that is the point.
  await Promise.allSettled(ops.map((op) => op()));
  const { signal } = await svc.exit;
  expect(signal).toBe('SIGKILL');
  return { answered, issued };
}

/**
 * Waits until no backend of the killed process is left. A COMMIT the process sent just before it
 * died may still be running on the server; read before it ends, a key's state would not be final.
 */
async function backendsGone(db: Client): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const left = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    if (left.rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('backends of the killed service still there after 10 s');
}

/** Every invariant the key lifecycle's transactions promise, read straight from the database. */
async function checkInvariants(db: Client, instanceIds: string[], acknowledged: Issued[]): Promise<void> {
  const live = await db.query(
    `SELECT instance_id, count(*) FILTER (WHERE ${effectiveStatusSql('k')} IN ('ACTIVE', 'PAUSED'))::int AS n
       FROM instance_keys k WHERE k.instance_id = ANY($1) GROUP BY instance_id`,
    [instanceIds],
  );
  expect(live.rows).toHaveLength(instanceIds.length);
  for (const row of live.rows) expect(row.n).toBeLessThanOrEqual(CAP);

  // A PENDING_ROTATION key has exactly one successor, and the two point at each other.
  const pending = await db.query(
    `SELECT k.id, k.replaced_by_key_id, array(SELECT s.id FROM instance_keys s WHERE s.replaces_key_id = k.id) AS successors
       FROM instance_keys k WHERE k.instance_id = ANY($1) AND k.status = 'PENDING_ROTATION'`,
    [instanceIds],
  );
  for (const row of pending.rows)
    expect({ id: row.id, successors: row.successors }).toEqual({ id: row.id, successors: [row.replaced_by_key_id] });

  const orphans = await db.query(
    `SELECT s.id FROM instance_keys s JOIN instance_keys p ON p.id = s.replaces_key_id
      WHERE s.instance_id = ANY($1) AND p.replaced_by_key_id IS DISTINCT FROM s.id`,
    [instanceIds],
  );
  expect(orphans.rows).toEqual([]);

  const twoSuccessors = await db.query(
    `SELECT replaces_key_id FROM instance_keys WHERE instance_id = ANY($1) AND replaces_key_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1`,
    [instanceIds],
  );
  expect(twoSuccessors.rows).toEqual([]);

  // The audit event is written in the key's own transaction: a key never exists without it.
  const unaudited = await db.query(
    `SELECT k.id FROM instance_keys k WHERE k.instance_id = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.action = 'key.created' AND a.target_id = k.id::text)`,
    [instanceIds],
  );
  expect(unaudited.rows).toEqual([]);
  const rotatedUnaudited = await db.query(
    `SELECT k.id FROM instance_keys k WHERE k.instance_id = ANY($1) AND k.replaced_by_key_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.action = 'key.rotated' AND a.target_id = k.id::text)`,
    [instanceIds],
  );
  expect(rotatedUnaudited.rows).toEqual([]);

  // What the service acknowledged (a 201 with the plaintext) was committed before the answer left.
  const found = await db.query(`SELECT id FROM instance_keys WHERE id = ANY($1)`, [acknowledged.map((k) => k.id)]);
  expect(found.rows.map((r) => r.id).sort()).toEqual(acknowledged.map((k) => k.id).sort());
}

async function keysByStatus(db: Client, keys: Issued[], status: string): Promise<Issued[]> {
  const rows = await db.query(`SELECT id FROM instance_keys k WHERE k.id = ANY($1) AND ${effectiveStatusSql('k')} = $2`, [
    keys.map((k) => k.id),
    status,
  ]);
  const ids = new Set(rows.rows.map((r) => r.id));
  return keys.filter((k) => ids.has(k.id));
}

(onPostgresServer ? describe : describe.skip)('the built service as a process', () => {
  const dbName = `trusset_crash_${process.pid}_${randomBytes(3).toString('hex')}`;
  let databaseUrl: string;
  let server: Client;
  let db: Client;

  beforeAll(async () => {
    buildService();
    server = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await server.connect();
    // Its own database, so connection counts and invariants see this file's service alone.
    await server.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(process.env.TEST_DATABASE_URL!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await server?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await server?.end();
  });

  it('keeps every key invariant when SIGKILLed in the middle of a burst of key changes, and starts again on the same database', async () => {
    // Enough connections and patience that the burst queues on the instance row locks instead of being refused.
    const env = { DATABASE_POOL_SIZE: '30', DATABASE_ACQUIRE_TIMEOUT_MS: '10000', DATABASE_STATEMENT_TIMEOUT_MS: '20000' };
    let svc = await startService(databaseUrl, env);
    const instances: BurstInstance[] = [];
    for (let i = 0; i < 3; i++) instances.push(await seedInstance(svc, 8));
    const acknowledged: Issued[] = instances.flatMap((i) => i.keys);

    for (const killAfter of [3, 25, 60]) {
      const { answered, issued } = await burstAndKill(svc, instances, killAfter);
      await backendsGone(db);
      expect(answered).toBeGreaterThanOrEqual(killAfter);
      acknowledged.push(...issued);
      await checkInvariants(
        db,
        instances.map((i) => i.id),
        acknowledged,
      );

      // Restart on the same database: it migrates (nothing to do), becomes ready and admits a surviving key.
      svc = await startService(databaseUrl, env);
      const active = await keysByStatus(db, acknowledged, 'ACTIVE');
      expect(active.length).toBeGreaterThan(0);
      const pass = await call(svc, 'GET', '/api/auth/verify?service=trading', undefined, { 'X-API-Key': active[active.length - 1].key });
      expect([pass.status, pass.body.data?.keyId]).toEqual([200, active[active.length - 1].id]);
      const revoked = await keysByStatus(db, acknowledged, 'REVOKED');
      if (revoked.length > 0) {
        const refused = await call(svc, 'GET', '/api/auth/verify', undefined, { 'X-API-Key': revoked[0].key });
        expect([refused.status, refused.body.error.code]).toEqual([401, 'AUTH_FAILED']);
      }
      // Refill what the burst used up so the next round again has keys to race on.
      for (const inst of instances) {
        inst.keys = await keysByStatus(
          db,
          acknowledged.filter((k) => k.instanceId === inst.id),
          'ACTIVE',
        );
        expect(inst.keys.length).toBeGreaterThan(0);
      }
    }
    svc.proc.kill('SIGTERM');
    expect((await svc.exit).code).toBe(0);
  }, 180_000);

  it('finishes in-flight requests on SIGTERM, records their usage, exits 0 and leaves no connection behind', async () => {
    // Usage is flushed only at shutdown here, so the count in the database shows what the drain kept.
    const svc = await startService(databaseUrl, { USAGE_FLUSH_INTERVAL_MS: '3600000', RATE_LIMIT_PER_KEY_PER_MINUTE: '0' });
    const inst = await seedInstance(svc, 0);

    // Key changes stuck behind the instance row lock are in flight, server-side, when SIGTERM arrives.
    const locker = new Client({ connectionString: databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM instances WHERE id = $1 FOR UPDATE', [inst.id]);
    const creates = Array.from({ length: 5 }, (_, i) =>
      call(svc, 'POST', `/api/admin/instances/${inst.ref}/keys`, { name: `in flight ${i}` }),
    );
    const waitUntil = Date.now() + 10_000;
    for (;;) {
      const { rows } = await db.query(
        // Only the creates: another backend of the service (its webhook worker, say) must not be counted as one.
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1
            AND query LIKE 'SELECT id, ref, status% FROM instances WHERE % FOR UPDATE'`,
        [(locker as unknown as { processID: number }).processID],
      );
      if (rows[0].n >= creates.length) break;
      if (Date.now() > waitUntil) throw new Error('the creates never reached the lock');
      await new Promise((r) => setTimeout(r, 50));
    }

    // And a steady stream of key checks, from before the signal until the server stops accepting.
    let verified = 0;
    const otherStatuses: number[] = [];
    const worker = async () => {
      for (;;) {
        let res: Response;
        try {
          res = await fetch(`${svc.url}/api/auth/verify`, { headers: { 'X-API-Key': inst.keys[0].key } });
        } catch {
          return; // refused or closed before it was read: the stopping server no longer takes requests
        }
        await res.json(); // an answered request arrives whole
        if (res.status === 200) verified++;
        else otherStatuses.push(res.status);
      }
    };
    const checks = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 200));
    svc.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(svc.proc.exitCode).toBeNull();
    await locker.query('COMMIT');
    await locker.end();

    const answers = await Promise.all(creates);
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    await Promise.all(checks);
    expect(otherStatuses).toEqual([]);
    expect(verified).toBeGreaterThan(0);
    const { code, signal } = await svc.exit;
    expect({ code, signal, stderr: svc.stderr() }).toEqual({ code: 0, signal: null, stderr: expect.not.stringContaining('timed out') });

    const { rows } = await db.query(`SELECT count(*)::int AS n FROM instance_keys WHERE instance_id = $1`, [inst.id]);
    expect(rows[0].n).toBe(6);
    const usage = await db.query(`SELECT request_count::int AS n FROM instance_keys WHERE id = $1`, [inst.keys[0].id]);
    expect(usage.rows[0].n).toBe(verified);
    const left = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    expect(left.rows[0].n).toBe(0);
  }, 120_000);
});
