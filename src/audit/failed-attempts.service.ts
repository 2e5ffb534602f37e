import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { AuditRepository } from './audit.repository';

/** Failed attempts that belong to no tenant: stored one by one up to the strict limit, then tallied. */
export const FAILED_AUTH_ACTIONS = ['admin.auth_failed', 'mica.management_auth_failed', 'secret_scanning.auth_failed'] as const;
export type FailedAuthAction = (typeof FAILED_AUTH_ACTIONS)[number];
/** One row per address and flush for the attempts past the strict limit that were not stored. */
export const SUPPRESSED_ACTION = 'auth.failures_suppressed';
/** What AUDIT_FAILED_AUTH_RETENTION_DAYS prunes. */
export const PRUNED_ACTIONS = [...FAILED_AUTH_ACTIONS, SUPPRESSED_ACTION];

/** Addresses tallied between two flushes; past it, the rest are summed under one entry. */
const MAX_TALLIED_ADDRESSES = 10_000;
const OTHER_ADDRESSES = 'other';
const FLUSH_INTERVAL_MS = 60_000;
const PRUNE_INTERVAL_MS = 3_600_000;

interface Tally {
  count: number;
  byAction: Record<string, number>;
  first: string;
  last: string;
}

/**
 * Keeps unauthenticated audit growth bounded (issue #11 item 12): failures past the strict limit are
 * counted in memory and written once a minute as one `auth.failures_suppressed` row per address
 * (never a write per request, so a flood costs no database work), and rows of failed attempts older
 * than AUDIT_FAILED_AUTH_RETENTION_DAYS are deleted at start and every hour.
 */
@Injectable()
export class FailedAttemptsService implements OnModuleInit, OnModuleDestroy {
  private tallies = new Map<string, Tally>();
  private timers: NodeJS.Timeout[] = [];
  private pruning?: Promise<unknown>;

  constructor(
    private readonly events: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: JsonLogger,
  ) {}

  onModuleInit(): void {
    this.timers.push(
      setInterval(
        () => void this.flush().catch((e: Error) => this.warn('could not record suppressed failed attempts', e)),
        FLUSH_INTERVAL_MS,
      ),
    );
    this.timers.push(
      setInterval(() => void this.prune().catch((e: Error) => this.warn('could not prune failed attempts', e)), PRUNE_INTERVAL_MS),
    );
    for (const timer of this.timers) timer.unref();
    this.pruning = this.prune().catch((e: Error) => this.warn('could not prune failed attempts', e));
  }

  async onModuleDestroy(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    // The prune begun at start must end before the pool closes.
    await this.pruning;
    await this.flush().catch((e: Error) => this.warn('could not record suppressed failed attempts', e));
  }

  /** A failed attempt from `address` (its limiter key) that was answered 429 and not stored. */
  suppressed(address: string, action: FailedAuthAction): void {
    const key = this.tallies.has(address) || this.tallies.size < MAX_TALLIED_ADDRESSES ? address : OTHER_ADDRESSES;
    const now = new Date().toISOString();
    const tally = this.tallies.get(key) ?? { count: 0, byAction: {}, first: now, last: now };
    tally.count++;
    tally.byAction[action] = (tally.byAction[action] ?? 0) + 1;
    tally.last = now;
    this.tallies.set(key, tally);
  }

  /** Writes the tallies since the last flush, one row per address, in one statement. */
  async flush(): Promise<void> {
    if (this.tallies.size === 0) return;
    const batch = this.tallies;
    this.tallies = new Map();
    const addresses = [...batch.keys()];
    const details = addresses.map((a) => {
      const t = batch.get(a)!;
      return JSON.stringify({ count: t.count, byAction: t.byAction, from: t.first, to: t.last });
    });
    try {
      await this.events.insertSuppressed(SUPPRESSED_ACTION, addresses, details);
    } catch (e) {
      // Kept for the next flush rather than lost.
      for (const [address, t] of batch) {
        const now = this.tallies.get(address);
        if (!now) this.tallies.set(address, t);
        else {
          now.count += t.count;
          for (const [action, n] of Object.entries(t.byAction)) now.byAction[action] = (now.byAction[action] ?? 0) + n;
          now.first = t.first;
        }
      }
      throw e;
    }
  }

  /** Deletes failed-attempt rows past the retention; 0 keeps them. Returns how many went. */
  async prune(): Promise<number> {
    const days = this.config.audit.failedAuthRetentionDays;
    if (days <= 0) return 0;
    return this.events.pruneUnowned(PRUNED_ACTIONS, days);
  }

  private warn(msg: string, e: Error): void {
    this.logger.event('warn', msg, { err: e.message });
  }
}
