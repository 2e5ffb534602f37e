import { randomUUID } from 'node:crypto';
import { INSTANCE_KEY_LOOKUP } from '../../src/auth/instance-key.verifier';
import type { TestApp } from './test-app';

/**
 * Repeats `probe` with short pauses until `done` holds for its answer or `budgetMs` is spent, and
 * returns the last answer: the caller asserts on that answer (the behaviour), never on how long it took.
 */
export async function pollUntil<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, budgetMs = 1000, stepMs = 20): Promise<T> {
  // performance.now, not Date.now: tests pin or advance Date.now, and the budget must stay real.
  const deadline = performance.now() + budgetMs;
  let value = await probe();
  while (!done(value) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, stepMs));
    value = await probe();
  }
  return value;
}

/**
 * Moves the app's clock (Date.now) forward by `ms` from now on, so time-driven key states can be
 * tested without sleeping. Restored by jest.restoreAllMocks().
 */
export function advanceClock(ms: number): jest.SpyInstance {
  const realNow = Date.now.bind(Date);
  return jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
}

/**
 * Pins Date.now one second into the current minute, so a fixed one-minute rate-limit window cannot
 * roll over in the middle of a test (every replica in this process shares the pinned clock).
 */
export function pinClockInsideOneMinute(): jest.SpyInstance {
  const start = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
  return jest.spyOn(Date, 'now').mockReturnValue(start);
}

/** A fresh MiCA developer account on `t`: its API key, its key id and its management token. */
export async function registerMicaDeveloper(t: TestApp): Promise<{ apiKey: string; keyId: string; token: string }> {
  const res = await t
    .http()
    .post('/api/mica/developer/register')
    .send({ name: 'Scale Tester', email: `scale.${randomUUID()}@example.com` })
    .expect(201);
  const { apiKey, managementToken } = res.body.data;
  const list = await t.http().get('/api/mica/developer/keys').set('Authorization', `Bearer ${managementToken}`).expect(200);
  return { apiKey, keyId: list.body.data.keys[0].id, token: managementToken };
}

/**
 * Repeats `check` until one answer is served from `cache` (a hit), and asserts it answered `status`.
 * A lookup stores nothing when any invalidation happened while it ran (the cache's epoch), and on a
 * shared server other suites' changes are invalidations too: a first check may then not be cached.
 */
export async function expectServedFromCache(
  cache: { hits: number },
  check: () => Promise<{ status: number }>,
  status = 200,
): Promise<void> {
  const last = await pollUntil(
    async () => {
      const before = cache.hits;
      const res = await check();
      return { status: res.status, hit: cache.hits > before };
    },
    (r) => r.hit || r.status !== status,
    2000,
    0,
  );
  expect(last).toEqual({ status, hit: true });
}

/** The query InstanceKeyVerifier sends on a cache miss: what a cache hit must avoid. */
export const isInstanceKeyLookup = (sql: unknown): boolean => sql === INSTANCE_KEY_LOOKUP;

/**
 * Holds every instance-key lookup of `t` until `release()`, either before the query runs or after it
 * has read its rows; `reached` resolves at the first one, and `digests` records what each asked for.
 * Every argument passes through, since a transaction's queries carry their query runner as the third.
 * Restored by jest.restoreAllMocks().
 */
export function holdKeyLookups(t: TestApp, when: 'before-read' | 'after-read') {
  const original = t.dataSource.query.bind(t.dataSource);
  let reachedNow!: () => void;
  const reached = new Promise<void>((r) => (reachedNow = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const digests: unknown[][] = [];
  jest.spyOn(t.dataSource, 'query').mockImplementation((async (sql: string, ...rest: [unknown[]?, never?]) => {
    if (!isInstanceKeyLookup(sql)) return original(sql, ...rest);
    digests.push(rest[0]![0] as unknown[]);
    if (when === 'before-read') {
      reachedNow();
      await gate;
      return original(sql, ...rest);
    }
    const rows = await original(sql, ...rest);
    reachedNow();
    await gate;
    return rows;
  }) as typeof t.dataSource.query);
  return { reached, release, digests };
}
