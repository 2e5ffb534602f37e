import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from './support/test-app';

describe('MiCA register data: per-key limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('refuses the 61st data request of a key within one minute with 429 and Retry-After', async () => {
    // Fixed one-minute windows: pin the clock inside one so the count cannot straddle a boundary.
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Math.floor(Date.now() / 60_000) * 60_000 + 1_000);
    try {
      const reg = await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Limit Tester', email: `limits.${randomUUID()}@example.com` })
        .expect(201);
      const key = reg.body.data.apiKey;
      const routes = ['/issuers', '/search?q=bitpanda', '/statistics', '/license-types', '/countries', '/changes'];
      for (let i = 1; i <= 60; i++) {
        const res = await t
          .http()
          .get(`/api/mica/v1${routes[i % routes.length]}`)
          .set('X-API-Key', key)
          .expect(200);
        expect(res.headers['x-ratelimit-limit-minute']).toBe('60');
        expect(res.headers['x-ratelimit-remaining-minute']).toBe(String(60 - i));
        expect(res.headers['x-ratelimit-remaining-day']).toBe(String(5000 - i));
      }
      const refused = await t.http().get('/api/mica/v1/issuers').set('X-API-Key', key).expect(429);
      expect(refused.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.headers['x-ratelimit-remaining-minute']).toBe('0');
    } finally {
      clock.mockRestore();
    }
  });
});
