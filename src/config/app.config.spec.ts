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
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1, nope'],
    ['HOST', 'not a host'],
    ['HOST', '-bad-'],
    ['DATABASE_POOL_SIZE', '0'],
    ['LOG_QUERIES', 'sometimes'],
    ['DATA_DIR', 'a\u0000b'],
  ])('names %s when it is invalid (%p)', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('says in one line what a variable accepts', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'maybe' })).toThrow(
      /^Invalid configuration: TRUST_PROXY must be true, false, a hop count, or a comma list of IP addresses, CIDR subnets or loopback\/linklocal\/uniquelocal, got "maybe"$/,
    );
    expect(() => loadConfig({ PORT: '70000' })).toThrow('PORT must be a whole number from 0 to 65535, got "70000"');
  });

  it('accepts what Express accepts for TRUST_PROXY, and IP addresses or host names for HOST', () => {
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '0' }).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }).http.trustProxy).toBe('loopback,10.0.0.0/8,fd00::/8');
    expect(loadConfig({ HOST: '::1' }).http.host).toBe('::1');
    expect(loadConfig({ HOST: 'keys.internal' }).http.host).toBe('keys.internal');
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
