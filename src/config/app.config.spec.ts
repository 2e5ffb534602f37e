import { ConfigError, loadConfig } from './app.config';

describe('loadConfig', () => {
  it('uses documented defaults', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(3000);
    expect(c.database.url).toBeUndefined();
    expect(c.database.dataDir).toBe('./data');
    expect(c.keys.maxActivePerInstance).toBe(10);
    expect(c.keys.defaultOverlapSeconds).toBe(604800);
    expect(c.auth.adminTokenGenerated).toBe(true);
    expect(c.auth.adminToken).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['NODE_ENV', 'staging'],
    ['ADMIN_TOKEN', 'short'],
    ['SECRETS_KEY', 'short'],
    ['SECRETS_KEY', 'has spaces in it but is long enough to pass length'],
    ['USAGE_RETENTION_DAYS', '0'],
    ['IDEMPOTENCY_WAIT_MS', '-5'],
    ['RATE_LIMIT_STRICT_PER_MINUTE', '-1'],
    ['KEY_ROTATION_OVERLAP_SECONDS', '2592001'],
    ['LOG_LEVEL', 'chatty'],
    ['REDIS_URL', 'http://x'],
    ['TRUST_PROXY', 'maybe!'],
  ])('names %s when it is invalid (%p)', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('refuses to start in production without ADMIN_TOKEN', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow('ADMIN_TOKEN is required');
  });

  it('refuses to start in production without SECRETS_KEY, and generates one elsewhere', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'a'.repeat(40) })).toThrow('SECRETS_KEY is required');
    const generated = loadConfig({});
    expect(generated.secrets.generated).toBe(true);
    expect(generated.secrets.key).toMatch(/^[0-9a-f]{64}$/);
    expect(loadConfig({ SECRETS_KEY: 's'.repeat(32) }).secrets).toEqual({ key: 's'.repeat(32), generated: false });
    expect(generated.usage.retentionDays).toBe(400);
  });

  it('uses a pool of one on the embedded database', () => {
    expect(loadConfig({ DATABASE_POOL_SIZE: '50' }).database.poolSize).toBe(1);
    expect(loadConfig({ DATABASE_URL: 'postgres://x/y', DATABASE_POOL_SIZE: '50' }).database.poolSize).toBe(50);
  });
});
