import { randomBytes } from 'node:crypto';
import { adminKeys, createInstance } from './support/instance-fixtures';
import { pinClockInsideOneMinute, pollUntil } from './support/scale-helpers';
import { TcpProxy } from './support/tcp-proxy';
import { onPostgresServer, startTestApp, TestApp } from './support/test-app';
import { RATE_LIMIT_STORE } from '../src/rate-limit/rate-limit.store';
import { FallbackRateLimitStore, RedisRateLimitStore } from '../src/rate-limit/redis-rate-limit.store';

const REDIS_URL = process.env.TEST_REDIS_URL;

/** A client address of its own for each run, so runs sharing one Redis never count each other's requests. */
/** A fresh IPv6 /64 each time: per-address limits count an IPv6 client by its /64 (RATE_LIMIT_IPV6_PREFIX). */
const freshClientAddress = () =>
  `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::${randomBytes(2).toString('hex')}`;

const register = (t: TestApp, address: string) => t.http().post('/api/mica/developer/register').set('X-Forwarded-For', address).send({});
const verify = (t: TestApp, key: string) => t.http().get('/api/auth/verify').set('X-API-Key', key);

/**
 * Every replica connected to Redis before the first count: a command sent while one is still
 * connecting is counted in that process (the fallback), which is not what these tests are about.
 */
async function redisConnected(...apps: TestApp[]): Promise<void> {
  for (const t of apps) {
    const primary = t.app.get<FallbackRateLimitStore>(RATE_LIMIT_STORE).primary as RedisRateLimitStore;
    await pollUntil(
      () => primary.ready,
      (ready) => ready,
      10_000,
    );
  }
}

(REDIS_URL ? describe : describe.skip)('rate limits shared by two replicas through Redis (needs TEST_REDIS_URL)', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const env = { REDIS_URL: REDIS_URL!, TRUST_PROXY: 'true', RATE_LIMIT_STRICT_PER_MINUTE: '3', RATE_LIMIT_PER_KEY_PER_MINUTE: '4' };
    a = await startTestApp(env);
    b = await startTestApp(env);
    await redisConnected(a, b);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });
  afterEach(() => jest.restoreAllMocks());

  it('counts one client address once across both replicas (registration limit)', async () => {
    pinClockInsideOneMinute();
    const address = freshClientAddress();
    // Every attempt counts, an invalid one included (400), so an empty body is enough to spend the allowance.
    const answers = [];
    for (const t of [a, b, a]) answers.push((await register(t, address)).status);
    expect(answers).toEqual([400, 400, 400]);
    const limited = await register(b, address);
    expect([limited.status, limited.body.error.code]).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected, on either replica.
    expect((await register(a, freshClientAddress())).status).toBe(400);
  });

  (onPostgresServer ? it : it.skip)('counts one instance key once across both replicas (per-key limit; shared database)', async () => {
    pinClockInsideOneMinute();
    const inst = await createInstance(a);
    const remaining = [];
    for (const t of [a, b, a, b]) remaining.push((await verify(t, inst.key).expect(200)).headers['x-ratelimit-remaining']);
    expect(remaining).toEqual(['3', '2', '1', '0']);
    expect((await verify(a, inst.key).expect(429)).body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    await verify(b, inst.key).expect(429);
  });

  describe('when Redis goes away while the replicas run', () => {
    let proxy: TcpProxy;
    let c: TestApp;
    let d: TestApp;

    beforeAll(async () => {
      // Redis through a loopback proxy that the test can cut, without stopping the machine's Redis.
      const u = new URL(REDIS_URL!);
      proxy = new TcpProxy(u.hostname, Number(u.port || 6379));
      const port = await proxy.start();
      const env = {
        REDIS_URL: `redis://127.0.0.1:${port}`,
        TRUST_PROXY: 'true',
        RATE_LIMIT_STRICT_PER_MINUTE: '2',
        RATE_LIMIT_PER_KEY_PER_MINUTE: '2',
      };
      c = await startTestApp(env);
      d = await startTestApp(env);
      await redisConnected(c, d);
    });
    afterAll(async () => {
      await c?.close();
      await d?.close();
      await proxy?.stop();
    });

    it('keeps deciding key checks and counts limits in each replica until Redis is back, then shares them again', async () => {
      pinClockInsideOneMinute();
      const inst = await createInstance(c);
      const address = freshClientAddress();
      expect((await register(c, address)).status).toBe(400);
      expect((await register(d, address)).status).toBe(400);
      expect((await register(c, address)).status).toBe(429);

      proxy.cut();
      // Without Redis each replica counts alone: the same address gets a fresh allowance on each.
      const outage = freshClientAddress();
      expect([(await register(c, outage)).status, (await register(c, outage)).status, (await register(c, outage)).status]).toEqual([
        400, 400, 429,
      ]);
      expect((await register(d, outage)).status).toBe(400);
      expect(c.app.get<FallbackRateLimitStore>(RATE_LIMIT_STORE).degraded).toBe(true);
      // A key check never fails because the limiter's store is down.
      await verify(c, inst.key).expect(200);
      await verify(c, inst.key).expect(200);
      await verify(c, inst.key).expect(429);

      proxy.restore();
      // ioredis reconnects by itself (backoff up to 2 s); each replica is back on Redis at its next command.
      const store = (t: TestApp) => t.app.get<FallbackRateLimitStore>(RATE_LIMIT_STORE);
      const probe = (t: TestApp) => async () => {
        await register(t, freshClientAddress());
        return store(t).degraded;
      };
      expect(await pollUntil(probe(c), (degraded) => !degraded, 10_000, 100)).toBe(false);
      expect(await pollUntil(probe(d), (degraded) => !degraded, 10_000, 100)).toBe(false);
      const after = freshClientAddress();
      expect([(await register(c, after)).status, (await register(d, after)).status, (await register(c, after)).status]).toEqual([
        400, 400, 429,
      ]);
    });
  });
});

describe('with REDIS_URL pointing at a closed port', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_PER_KEY_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('still decides key checks: a valid key passes and a revoked key is refused', async () => {
    const inst = await createInstance(t);
    const second = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'second' }).expect(201)).body.data;
    await t
      .http()
      .post(adminKeys(inst.ref, `/${second.id}/revoke`))
      .set(t.admin)
      .expect(200);
    expect((await verify(t, inst.key).expect(200)).body.data.keyId).toBe(inst.keyId);
    expect((await verify(t, second.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
  });

  it('counts the limits in the process: the request past the limit is refused with 429', async () => {
    pinClockInsideOneMinute();
    const inst = await createInstance(t);
    const remaining = [];
    for (let i = 0; i < 3; i++) remaining.push((await verify(t, inst.key).expect(200)).headers['x-ratelimit-remaining']);
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await verify(t, inst.key).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(t.app.get<FallbackRateLimitStore>(RATE_LIMIT_STORE).degraded).toBe(true);
  });
});
