import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance } from './support/instance-fixtures';
import { holdKeyLookups } from './support/scale-helpers';
import { onPostgresServer, startTestApp, TestApp } from './support/test-app';
import { UsageTracker } from '../src/usage/usage.tracker';

/**
 * Usage (lastUsedAt, requestCount) is counted in memory and flushed every USAGE_FLUSH_INTERVAL_MS;
 * these tests set the interval to an hour, so whatever reaches the database was written at shutdown.
 */
describe('key usage counters', () => {
  const dirs: string[] = [];
  /** The database must outlive the app being closed: on embedded PGlite a data folder instead of memory. */
  function durableEnv(): Record<string, string> {
    const env: Record<string, string> = { USAGE_FLUSH_INTERVAL_MS: '3600000', RATE_LIMIT_PER_KEY_PER_MINUTE: '0' };
    if (!onPostgresServer) {
      const dir = mkdtempSync(join(tmpdir(), 'trusset-usage-'));
      dirs.push(dir);
      env.DATA_DIR = dir;
    }
    return env;
  }
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  afterEach(() => jest.restoreAllMocks());

  async function usageOf(reader: TestApp, keyId: string): Promise<{ request_count: number; last_used_at: Date | null }> {
    const [row] = await reader.dataSource.query(
      `SELECT request_count::int AS request_count, last_used_at FROM instance_keys WHERE id = $1`,
      [keyId],
    );
    return row;
  }

  it('writes what was counted when the app closes, without waiting for the interval', async () => {
    const env = durableEnv();
    const t = await startTestApp(env);
    const inst = await createInstance(t);
    const before = new Date(Date.now() - 1000);
    for (let i = 0; i < 3; i++) await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
    // Nothing written yet: it is all in memory.
    expect((await usageOf(t, inst.keyId)).request_count).toBe(0);
    await t.close();

    const reader = await startTestApp(env);
    try {
      const usage = await usageOf(reader, inst.keyId);
      expect(usage.request_count).toBe(3);
      expect(usage.last_used_at!.getTime()).toBeGreaterThanOrEqual(before.getTime());
    } finally {
      await reader.close();
    }
  });

  it('counts a request still in flight when shutdown begins', async () => {
    const env = durableEnv();
    const t = await startTestApp(env);
    const inst = await createInstance(t);
    const tracker = t.app.get(UsageTracker);

    // Hold the request inside its key lookup until shutdown has begun, as a request arriving just
    // before SIGTERM would be; it is let go the moment the tracker's shutdown hook is called.
    const lookup = holdKeyLookups(t, 'before-read');
    const beforeShutdown = tracker.beforeApplicationShutdown.bind(tracker);
    jest.spyOn(tracker, 'beforeApplicationShutdown').mockImplementation(() => {
      lookup.release();
      return beforeShutdown();
    });

    const request = t
      .http()
      .get('/api/auth/verify')
      .set('X-API-Key', inst.key)
      .then((r) => r.status);
    await lookup.reached;
    await t.close();
    expect(await request).toBe(200);

    const reader = await startTestApp(env);
    try {
      expect((await usageOf(reader, inst.keyId)).request_count).toBe(1);
    } finally {
      await reader.close();
    }
  });

  it('never moves last_used_at back when a flush carries an older time', async () => {
    const t = await startTestApp({ USAGE_FLUSH_INTERVAL_MS: '3600000' });
    try {
      const inst = await createInstance(t);
      const tracker = t.app.get(UsageTracker);
      const recent = Date.parse('2030-01-01T12:00:00.000Z');
      tracker.record('instance_key', inst.keyId, recent);
      await tracker.flush();
      // A replica whose tallies are older (or whose clock is behind) flushes after it.
      tracker.record('instance_key', inst.keyId, recent - 3600_000);
      await tracker.flush();
      const usage = await usageOf(t, inst.keyId);
      expect(usage.last_used_at!.toISOString()).toBe('2030-01-01T12:00:00.000Z');
      expect(usage.request_count).toBe(2);
    } finally {
      await t.close();
    }
  });
});
