import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { normaliseOrigin } from '../common/http/cors';
import { LOG_LEVELS, LogLevelName } from '../common/logging/json-logger';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
  }
}

export type NodeEnv = 'development' | 'production' | 'test';

export interface AppConfig {
  nodeEnv: NodeEnv;
  http: {
    port: number;
    host: string;
    /** Origins whose browser pages may call the API (CORS, SPEC §19); empty: none. */
    corsOrigins: string[];
    /** Express `trust proxy` value: false, a hop count, or a list of addresses/subnets. */
    trustProxy: boolean | number | string;
    bodyLimitBytes: number;
    shutdownTimeoutMs: number;
  };
  database: {
    /** PostgreSQL server URL; undefined selects the embedded PGlite database. */
    url?: string;
    dataDir: string;
    poolSize: number;
    acquireTimeoutMs: number;
    statementTimeoutMs: number;
  };
  auth: {
    adminToken: string;
    adminTokenGenerated: boolean;
    /** Upper bound for deciding a key check; past it the answer is AUTH_ERROR. */
    decisionTimeoutMs: number;
    /** AUTH_REFUSAL_PACE_MS: how long a 401 of the verify route waits while a flood of 401s shares the process with admitted requests; 0: never. */
    refusalPaceMs: number;
    /** AUTH_REFUSAL_FLOOD_PER_SECOND: 401s a second, beside admitted requests, that start the pacing. */
    refusalFloodPerSecond: number;
  };
  /** SECRETS_KEY: the server secret idempotent answers are sealed under (with each Idempotency-Key). */
  secrets: {
    key: string;
    generated: boolean;
  };
  idempotency: {
    /** How long an identical request waits for the first one to finish before answering IDEMPOTENCY_IN_PROGRESS. */
    waitMs: number;
  };
  keys: {
    maxActivePerInstance: number;
    defaultOverlapSeconds: number;
  };
  rateLimits: {
    perKeyPerMinute: number;
    /** With REDIS_URL: per-key counts settled with Redis in batches of up to this many per replica. */
    perKeyBatch: number;
    keyManagementPerMinute: number;
    strictPerMinute: number;
    micaPerMinute: number;
    micaPerDay: number;
    /** Per-address limits count IPv6 clients by this network prefix (SPEC §9). */
    ipv6Prefix: number;
  };
  redisUrl?: string;
  /** When set, GET /api/metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  cache: {
    maxEntries: number;
    maxUnknownEntries: number;
    positiveTtlMs: number;
    negativeTtlMs: number;
    /** Lookup queries one verifier may have in flight; lookups arriving meanwhile share the next. */
    lookupConcurrency: number;
    lookupBatchSize: number;
  };
  usage: {
    flushIntervalMs: number;
    /** Hourly usage buckets older than this many days are pruned. */
    retentionDays: number;
  };
  audit: {
    /** Days failed admin and management-token attempts are kept; 0 keeps them. */
    failedAuthRetentionDays: number;
  };
  mica: {
    syncUrl?: string;
    syncIntervalMinutes: number;
    maxShrinkRatio: number;
  };
  log: {
    level: LogLevelName;
    queries: boolean;
  };
  secretScanning: {
    /** Where GitHub's secret-scanning public keys are served (GitHub's shape). */
    githubKeysUrl: string;
    /** Bearer token of the operator's own scanner; undefined turns POST /api/secret-scanning/revoke off (401). */
    token?: string;
    /** What containment does to a leaked instance key; MiCA keys are always revoked. */
    leakedKeyAction: LeakedKeyAction;
  };
  webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** false: this replica serves the API but sends nothing and runs no notice sweep (others do). */
  deliveryEnabled: boolean;
  maxEndpointsPerOwner: number;
  /** Seconds to wait before each retry; its length is the number of retries after the first attempt. */
  retryScheduleSeconds: number[];
  timeoutMs: number;
  allowHttp: boolean;
  allowPrivateTargets: boolean;
  retentionDays: number;
  expiryNoticeSeconds: number;
  overlapNoticeSeconds: number;
  /** How often each replica looks for due deliveries, and for keys crossing a notice threshold. */
  pollIntervalMs: number;
  schedulerIntervalMs: number;
  /** Attempts one replica keeps in flight at once (one hanging receiver holds one of them). */
  concurrency: number;
}

export const LEAKED_KEY_ACTIONS = ['revoke', 'pause'] as const;
export type LeakedKeyAction = (typeof LEAKED_KEY_ACTIONS)[number];
export const GITHUB_SECRET_SCANNING_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${printable(raw)}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${printable(raw)}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${printable(raw)}"`);
  }
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL (${protocols.map((p) => `${p}//…`).join(' or ')})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
}

function secondsList(env: Env, name: string, fallback: number[]): number[] {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length > 20 || parts.some((p) => !/^\d{1,7}$/.test(p))) {
    throw new ConfigError(name, `must be a comma list of at most 20 whole numbers of seconds, got "${raw}"`);
  }
  return parts.map(Number);
}

/** Express's named subnets for `trust proxy` (proxy-addr). */
const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function isAddressOrSubnet(item: string): boolean {
  if (TRUST_PROXY_NAMES.includes(item)) return true;
  const [address, prefix, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Checked here rather than left to Express, which would only throw when the app is configured,
 * after the database had been opened and migrated.
 */
function trustProxy(env: Env): boolean | number | string {
  const raw = read(env, 'TRUST_PROXY');
  if (raw === undefined || /^false$/i.test(raw)) return false;
  if (/^true$/i.test(raw)) return true;
  if (/^\d{1,3}$/.test(raw)) return Number(raw) === 0 ? false : Number(raw);
  const items = raw.split(',').map((v) => v.trim());
  if (items.every(isAddressOrSubnet)) return items.join(',');
  throw new ConfigError(
    'TRUST_PROXY',
    `must be true, false, a hop count, or a comma list of IP addresses, CIDR subnets or ${TRUST_PROXY_NAMES.join('/')}, got "${printable(raw)}"`,
  );
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The bind address: an IP address or a host name (main.ts also resolves a name before anything starts). */
function host(env: Env): string {
  const raw = read(env, 'HOST');
  if (raw === undefined) return '0.0.0.0';
  if (isIP(raw) !== 0 || HOSTNAME.test(raw)) return raw;
  throw new ConfigError('HOST', `must be an IP address or a host name, got "${printable(raw)}"`);
}

function corsOrigins(env: Env): string[] {
  const raw = read(env, 'CORS_ORIGINS');
  if (raw === undefined) return [];
  const origins: string[] = [];
  for (const item of raw
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)) {
    const origin = normaliseOrigin(item);
    if (!origin)
      throw new ConfigError(
        'CORS_ORIGINS',
        `must be a comma list of origins like https://app.example.com (scheme, host, optional port; no path), got "${printable(item)}"`,
      );
    origins.push(origin);
  }
  return origins;
}

function metricsToken(env: Env): string | undefined {
  const raw = read(env, 'METRICS_TOKEN');
  if (raw === undefined) return undefined;
  if (raw.length < 16 || !/^[\x21-\x7e]+$/.test(raw))
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 printable ASCII characters without spaces');
  return raw;
}

function text(env: Env, name: string, fallback: string): string {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new ConfigError(name, 'must not contain control characters');
  return raw;
}

/** A value echoed in a config error: one line, bounded, so the message stays one readable line. */
function printable(raw: string): string {
  const flat = raw.replace(/[\x00-\x1f\x7f]/g, '?');
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat;
}

function adminToken(env: Env, nodeEnv: NodeEnv): { token: string; generated: boolean } {
  const raw = read(env, 'ADMIN_TOKEN');
  if (raw !== undefined) {
    if (raw.length < 32) throw new ConfigError('ADMIN_TOKEN', 'must be at least 32 characters long');
    if (!/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError('ADMIN_TOKEN', 'must be printable ASCII without spaces');
    return { token: raw, generated: false };
  }
  if (nodeEnv === 'production') throw new ConfigError('ADMIN_TOKEN', 'is required when NODE_ENV=production');
  return { token: randomBytes(32).toString('hex'), generated: true };
}

function secretScanningToken(env: Env): string | undefined {
  const raw = read(env, 'SECRET_SCANNING_TOKEN');
  if (raw === undefined) return undefined;
  if (raw.length < 32) throw new ConfigError('SECRET_SCANNING_TOKEN', 'must be at least 32 characters long');
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError('SECRET_SCANNING_TOKEN', 'must be printable ASCII without spaces');
  return raw;
}

function secretsKey(env: Env, nodeEnv: NodeEnv): { key: string; generated: boolean } {
  const raw = read(env, 'SECRETS_KEY');
  if (raw !== undefined) {
    if (raw.length < 32) throw new ConfigError('SECRETS_KEY', 'must be at least 32 characters long');
    if (!/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError('SECRETS_KEY', 'must be printable ASCII without spaces');
    return { key: raw, generated: false };
  }
  if (nodeEnv === 'production') throw new ConfigError('SECRETS_KEY', 'is required when NODE_ENV=production');
  return { key: randomBytes(32).toString('hex'), generated: true };
}

/** Reads and validates the whole configuration once, at start; the first bad variable stops the process. */
export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const admin = adminToken(env, nodeEnv);
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const poolSize = int(env, 'DATABASE_POOL_SIZE', 10, 1, 200);
  return {
    nodeEnv,
    http: {
      port: int(env, 'PORT', 3000, 0, 65535),
      host: host(env),
      corsOrigins: corsOrigins(env),
      trustProxy: trustProxy(env),
      bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 16 * 1024, 1024, 10 * 1024 * 1024),
      shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 120_000),
    },
    database: {
      url: databaseUrl,
      dataDir: text(env, 'DATA_DIR', './data'),
      // The embedded server accepts one connection at a time (the variable is still checked).
      poolSize: databaseUrl ? poolSize : 1,
      acquireTimeoutMs: int(env, 'DATABASE_ACQUIRE_TIMEOUT_MS', 1500, 100, 60_000),
      statementTimeoutMs: int(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    },
    auth: {
      adminToken: admin.token,
      adminTokenGenerated: admin.generated,
      decisionTimeoutMs: int(env, 'AUTH_DECISION_TIMEOUT_MS', 1500, 100, 2000),
      refusalPaceMs: int(env, 'AUTH_REFUSAL_PACE_MS', 20, 0, 1000),
      refusalFloodPerSecond: int(env, 'AUTH_REFUSAL_FLOOD_PER_SECOND', 2000, 1, 10_000_000),
    },
    secrets: secretsKey(env, nodeEnv),
    idempotency: {
      waitMs: int(env, 'IDEMPOTENCY_WAIT_MS', 5000, 0, 30_000),
    },
    keys: {
      maxActivePerInstance: int(env, 'MAX_ACTIVE_KEYS_PER_INSTANCE', 10, 1, 1000),
      defaultOverlapSeconds: int(env, 'KEY_ROTATION_OVERLAP_SECONDS', 604_800, 0, 2_592_000),
    },
    rateLimits: {
      perKeyPerMinute: int(env, 'RATE_LIMIT_PER_KEY_PER_MINUTE', 200, 0, 1_000_000_000),
      perKeyBatch: int(env, 'RATE_LIMIT_PER_KEY_BATCH', 10, 1, 1000),
      keyManagementPerMinute: int(env, 'RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE', 30, 0, 1_000_000_000),
      strictPerMinute: int(env, 'RATE_LIMIT_STRICT_PER_MINUTE', 10, 0, 1_000_000_000),
      micaPerMinute: int(env, 'MICA_RATE_LIMIT_PER_MINUTE', 60, 0, 1_000_000_000),
      micaPerDay: int(env, 'MICA_RATE_LIMIT_PER_DAY', 5000, 0, 1_000_000_000),
      ipv6Prefix: int(env, 'RATE_LIMIT_IPV6_PREFIX', 64, 16, 128),
    },
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    metricsToken: metricsToken(env),
    cache: {
      maxEntries: int(env, 'KEY_CACHE_MAX_ENTRIES', 100_000, 0, 10_000_000),
      maxUnknownEntries: int(env, 'KEY_CACHE_MAX_UNKNOWN_ENTRIES', 10_000, 0, 10_000_000),
      positiveTtlMs: int(env, 'KEY_CACHE_TTL_MS', 60_000, 0, 3_600_000),
      negativeTtlMs: int(env, 'KEY_CACHE_NEGATIVE_TTL_MS', 5_000, 0, 600_000),
      lookupConcurrency: int(env, 'KEY_LOOKUP_CONCURRENCY', 2, 1, 200),
      lookupBatchSize: int(env, 'KEY_LOOKUP_BATCH_SIZE', 100, 1, 1000),
    },
    usage: {
      flushIntervalMs: int(env, 'USAGE_FLUSH_INTERVAL_MS', 10_000, 100, 3_600_000),
      retentionDays: int(env, 'USAGE_RETENTION_DAYS', 400, 1, 3650),
    },
    audit: {
      failedAuthRetentionDays: int(env, 'AUDIT_FAILED_AUTH_RETENTION_DAYS', 30, 0, 3650),
    },
    mica: {
      syncUrl: url(env, 'MICA_SYNC_URL', ['http:', 'https:']),
      syncIntervalMinutes: int(env, 'MICA_SYNC_INTERVAL', 0, 0, 60 * 24 * 31),
      maxShrinkRatio: int(env, 'MICA_IMPORT_MAX_SHRINK_PERCENT', 50, 0, 100) / 100,
    },
    log: {
      level: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'warn' : 'info'),
      queries: bool(env, 'LOG_QUERIES', false),
    },
    secretScanning: {
      githubKeysUrl: url(env, 'SECRET_SCANNING_GITHUB_KEYS_URL', ['http:', 'https:']) ?? GITHUB_SECRET_SCANNING_KEYS_URL,
      token: secretScanningToken(env),
      leakedKeyAction: oneOf(env, 'LEAKED_KEY_ACTION', LEAKED_KEY_ACTIONS, 'revoke'),
    },
    webhooks: {
      deliveryEnabled: bool(env, 'WEBHOOK_DELIVERY_ENABLED', true),
      maxEndpointsPerOwner: int(env, 'WEBHOOK_MAX_ENDPOINTS', 10, 1, 1000),
      retryScheduleSeconds: secondsList(env, 'WEBHOOK_RETRY_SCHEDULE', [5, 300, 1800, 7200, 18000, 36000, 36000]),
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
      allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', false),
      allowPrivateTargets: bool(env, 'WEBHOOK_ALLOW_PRIVATE_TARGETS', false),
      retentionDays: int(env, 'WEBHOOK_RETENTION_DAYS', 30, 1, 3650),
      expiryNoticeSeconds: int(env, 'WEBHOOK_EXPIRY_NOTICE_SECONDS', 604_800, 0, 31_536_000),
      overlapNoticeSeconds: int(env, 'WEBHOOK_OVERLAP_NOTICE_SECONDS', 86_400, 0, 2_592_000),
      pollIntervalMs: int(env, 'WEBHOOK_POLL_INTERVAL_MS', 1000, 50, 60_000),
      schedulerIntervalMs: int(env, 'WEBHOOK_SCHEDULER_INTERVAL_MS', 60_000, 100, 3_600_000),
      concurrency: int(env, 'WEBHOOK_CONCURRENCY', 16, 1, 500),
    },
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
