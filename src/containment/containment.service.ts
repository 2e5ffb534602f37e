import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditEntry, AuditService } from '../audit/audit.service';
import type { Actor } from '../domain/actor';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { sha256 } from '../common/crypto/secrets';
import { instanceTag, KeyInvalidationService, keyTag } from '../key-cache/key-invalidation.service';
import { INSTANCE_KEY_FORMAT } from '../domain/instance-key.material';
import { effectiveStatusSql } from '../domain/instance-key.state';
import { MICA_KEY_FORMAT } from '../domain/mica-credentials';
import { WebhookEventInput, WebhookOutbox } from '../webhooks/webhook.outbox';
import { actorFacts } from '../webhooks/webhook-payloads';

/** One reported token, as either receiver read it. */
export interface LeakReport {
  token: string;
  type: string | null;
  /** Where it was found (GitHub's `url`, the operator scanner's `location`). */
  url: string | null;
  source: string | null;
}

/** GitHub's answer shape: the label and nothing more (no instance, no owner, no state). */
export interface LeakLabel {
  token_hash: string;
  token_type: string | null;
  label: 'true_positive' | 'false_positive';
}

export type LeakReporter = 'github' | 'operator';

interface InstanceKeyHit {
  digest: Buffer;
  id: string;
  name: string;
  key_prefix: string;
  key_hint: string;
  instance_id: string;
  effective: string;
  /** What containment did to it now; null when it was final or contained already. */
  contained: 'revoked' | 'paused' | null;
}

interface MicaKeyHit {
  digest: Buffer;
  id: string;
  name: string;
  key_prefix: string;
  key_hint: string;
  developer_id: string;
  /** Not revoked before this report: contained now. */
  open: boolean;
}

/** Stored lengths in the audit trail: a report's strings are the reporter's, not ours. */
const MAX_URL_CHARS = 2048;
const MAX_LABEL_CHARS = 100;
const clip = (value: string | null, max: number) => (value === null ? null : value.slice(0, max));

/**
 * Containment of leaked keys (SPEC §15) and the break-glass revocation of an instance's keys. Each
 * runs in one transaction through KeyInvalidationService.change: the owning rows are locked (the
 * instance row, as every key change of this service does, and the developer row for MiCA keys; always
 * instances first, each set in id order, so two reports cannot deadlock), the keys are re-read under
 * that lock, and the keys that changed leave every replica's key-check cache when it commits.
 */
@Injectable()
export class ContainmentService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  /**
   * Labels every reported token in the order given and contains each key of this service that is not
   * final yet. A key already contained (or otherwise final) is still a true positive, and changes
   * nothing: no update, no event.
   */
  async contain(reports: LeakReport[], reporter: LeakReporter, actor: Actor): Promise<LeakLabel[]> {
    const classified = reports.map((r) => {
      const digest = sha256(r.token);
      const kind = INSTANCE_KEY_FORMAT.test(r.token) ? 'instance' : MICA_KEY_FORMAT.test(r.token) ? 'mica' : null;
      return { report: r, digest, kind };
    });
    const instanceDigests = unique(classified.filter((c) => c.kind === 'instance').map((c) => c.digest));
    const micaDigests = unique(classified.filter((c) => c.kind === 'mica').map((c) => c.digest));
    const known = new Set<string>();
    if (instanceDigests.length > 0 || micaDigests.length > 0) {
      const firstReport = new Map<string, LeakReport>();
      for (const c of classified) if (!firstReport.has(c.digest.toString('hex'))) firstReport.set(c.digest.toString('hex'), c.report);
      await this.invalidation.change(async (manager, invalidate) => {
        const entries: AuditEntry[] = [];
        const events: WebhookEventInput[] = [];
        for (const hit of await this.containInstanceKeys(manager, instanceDigests, firstReport, reporter, entries, events, invalidate)) known.add(hit);
        for (const hit of await this.containMicaKeys(manager, micaDigests, firstReport, reporter, entries, events, invalidate)) known.add(hit);
        await this.audit.recordMany(entries, actor, manager);
        await this.enqueueAll(manager, events, actor);
      });
    }
    return classified.map((c) => ({
      token_hash: c.digest.toString('hex'),
      token_type: c.report.type,
      label: known.has(c.digest.toString('hex')) ? 'true_positive' : 'false_positive',
    }));
  }

  /** Revokes every key of the instance that is not final, except the ones named; 200 `{revoked}`. */
  async revokeAll(instanceRef: string, reason: string, exceptKeyIds: string[], actor: Actor): Promise<{ revoked: number }> {
    const except = [...new Set(exceptKeyIds)];
    return this.invalidation.change(async (manager, invalidate) => {
      const [instance] = await manager.query(`SELECT id FROM instances WHERE ref = $1 FOR UPDATE`, [instanceRef]);
      if (!instance) throw new AppException('NOT_FOUND', 'Instance not found.');
      if (except.length > 0) {
        const found: Array<{ id: string }> = await manager.query(`SELECT id FROM instance_keys WHERE instance_id = $1 AND id = ANY($2::uuid[])`, [instance.id, except]);
        const foreign = except.filter((id) => !found.some((f) => f.id === id));
        // A mistyped id would otherwise revoke the very key the operator meant to keep.
        if (foreign.length > 0) {
          throw new AppException('VALIDATION_ERROR', 'exceptKeyIds names keys that are not keys of this instance.', {
            exceptKeyIds: foreign.map((id) => `${id} is not a key of this instance`),
          });
        }
      }
      const effective = effectiveStatusSql('k');
      // An UPDATE answers [rows, affected count] through TypeORM's query().
      const [revoked]: [Array<{ id: string; name: string; key_prefix: string; key_hint: string; from_status: string }>, number] = await manager.query(
        `WITH t AS (
           SELECT k.id, ${effective} AS from_status FROM instance_keys k
            WHERE k.instance_id = $1 AND NOT (k.id = ANY($2::uuid[])) AND ${effective} NOT IN ('REVOKED', 'EXPIRED')
            ORDER BY k.created_at, k.id
            FOR UPDATE)
         UPDATE instance_keys k SET status = 'REVOKED', revoked_at = now() FROM t WHERE k.id = t.id
         RETURNING k.id, k.name, k.key_prefix, k.key_hint, t.from_status`,
        [instance.id, except],
      );
      await this.audit.recordMany(
        revoked.map((k) => ({
          action: 'key.revoked',
          target: { type: 'key', id: k.id },
          instanceId: instance.id,
          details: { from: k.from_status, reason, breakGlass: true },
        })),
        actor,
        manager,
      );
      await this.enqueueAll(
        manager,
        revoked.map((k) => ({
          owner: { instanceId: instance.id },
          type: 'key.revoked' as const,
          data: { key: { id: k.id, name: k.name, keyPrefix: k.key_prefix, keyHint: k.key_hint, status: 'REVOKED' }, from: k.from_status, reason, breakGlass: true },
        })),
        actor,
      );
      if (revoked.length > 0) invalidate(instanceTag(instance.id), ...revoked.map((k) => keyTag(k.id)));
      return { revoked: revoked.length };
    });
  }

  private enqueueAll(manager: EntityManager, events: WebhookEventInput[], actor: Actor): Promise<void> {
    return WebhookOutbox.enqueueMany(manager, events.map((e) => ({ ...e, data: { ...e.data, actor: actorFacts(actor) } })));
  }

  /** Returns the hex digests that are keys of this service, contained now or before. */
  private async containInstanceKeys(
    manager: EntityManager,
    digests: Buffer[],
    reports: Map<string, LeakReport>,
    reporter: LeakReporter,
    entries: AuditEntry[],
    events: WebhookEventInput[],
    invalidate: (...tags: string[]) => void,
  ): Promise<string[]> {
    if (digests.length === 0) return [];
    const owners = await manager.query(
      `SELECT id FROM instances WHERE id IN (SELECT instance_id FROM instance_keys WHERE key_digest = ANY($1::bytea[])) ORDER BY id FOR UPDATE`,
      [digests],
    );
    if (owners.length === 0) return [];
    // One statement reads the keys under lock, decides each and contains it: a 1,000-token report
    // costs one pass over the keys, not a read and then a write.
    const hits: InstanceKeyHit[] = await manager.query(
      `WITH hit AS (
         SELECT k.key_digest AS digest, k.id, k.name, k.key_prefix, k.key_hint, k.instance_id, ${effectiveStatusSql('k')} AS effective, k.paused_until
           FROM instance_keys k WHERE k.key_digest = ANY($1::bytea[]) ORDER BY k.id FOR UPDATE),
       decided AS (
         SELECT hit.*, CASE
             WHEN effective IN ('REVOKED', 'EXPIRED') THEN NULL
             -- A key in its rotation overlap already has a successor: ending the overlap is the containment.
             WHEN $2 = 'revoke' OR effective = 'PENDING_ROTATION' THEN 'revoked'
             -- Already contained by a pause without end (only containment makes one): nothing more.
             WHEN effective = 'PAUSED' AND paused_until IS NULL THEN NULL
             ELSE 'paused' END AS contained
           FROM hit),
       changed AS (
         UPDATE instance_keys k
            SET status = CASE WHEN d.contained = 'revoked' THEN 'REVOKED' ELSE 'PAUSED' END,
                revoked_at = CASE WHEN d.contained = 'revoked' THEN now() ELSE k.revoked_at END,
                -- No end: a leaked key stays paused until its owner resumes it (a false alarm) or revokes it.
                paused_until = CASE WHEN d.contained = 'paused' THEN NULL ELSE k.paused_until END,
                leaked_at = now()
           FROM decided d WHERE k.id = d.id AND d.contained IS NOT NULL
         RETURNING k.id)
       SELECT digest, id, name, key_prefix, key_hint, instance_id, effective, contained FROM decided ORDER BY id`,
      [digests, this.config.secretScanning.leakedKeyAction],
    );
    for (const hit of hits) {
      if (hit.contained === null) continue;
      const report = reports.get(hit.digest.toString('hex'))!;
      entries.push({
        action: 'key.leaked',
        target: { type: 'key', id: hit.id },
        instanceId: hit.instance_id,
        details: { from: hit.effective, contained: hit.contained, reporter, url: clip(report.url, MAX_URL_CHARS), source: clip(report.source, MAX_LABEL_CHARS), type: clip(report.type, MAX_LABEL_CHARS) },
      });
      events.push({
        owner: { instanceId: hit.instance_id },
        type: 'key.leaked',
        data: {
          key: { id: hit.id, name: hit.name, keyPrefix: hit.key_prefix, keyHint: hit.key_hint, status: hit.contained === 'revoked' ? 'REVOKED' : 'PAUSED' },
          from: hit.effective,
          contained: hit.contained,
          report: { reporter, type: clip(report.type, MAX_LABEL_CHARS), source: clip(report.source, MAX_LABEL_CHARS), url: clip(report.url, MAX_URL_CHARS) },
        },
      });
      invalidate(keyTag(hit.id));
    }
    return hits.map((h) => h.digest.toString('hex'));
  }

  private async containMicaKeys(
    manager: EntityManager,
    digests: Buffer[],
    reports: Map<string, LeakReport>,
    reporter: LeakReporter,
    entries: AuditEntry[],
    events: WebhookEventInput[],
    invalidate: (...tags: string[]) => void,
  ): Promise<string[]> {
    if (digests.length === 0) return [];
    const owners = await manager.query(
      `SELECT id FROM mica_developers WHERE id IN (SELECT developer_id FROM mica_keys WHERE key_digest = ANY($1::bytea[])) ORDER BY id FOR UPDATE`,
      [digests],
    );
    if (owners.length === 0) return [];
    const hits: MicaKeyHit[] = await manager.query(
      `WITH hit AS (
         SELECT key_digest AS digest, id, name, key_prefix, key_hint, developer_id, revoked_at IS NULL AS open FROM mica_keys WHERE key_digest = ANY($1::bytea[]) ORDER BY id FOR UPDATE),
       changed AS (
         UPDATE mica_keys k SET revoked_at = now(), leaked_at = now() FROM hit WHERE k.id = hit.id AND hit.open RETURNING k.id)
       SELECT digest, id, name, key_prefix, key_hint, developer_id, open FROM hit ORDER BY id`,
      [digests],
    );
    const open = hits.filter((h) => h.open);
    for (const hit of open) {
      const report = reports.get(hit.digest.toString('hex'))!;
      entries.push({
        action: 'mica.key.leaked',
        target: { type: 'mica_key', id: hit.id },
        developerId: hit.developer_id,
        details: { contained: 'revoked', reporter, url: clip(report.url, MAX_URL_CHARS), source: clip(report.source, MAX_LABEL_CHARS), type: clip(report.type, MAX_LABEL_CHARS) },
      });
      events.push({
        owner: { developerId: hit.developer_id },
        type: 'mica.key.leaked',
        data: {
          key: { id: hit.id, name: hit.name, keyPrefix: hit.key_prefix, keyHint: hit.key_hint, isActive: false },
          contained: 'revoked',
          report: { reporter, type: clip(report.type, MAX_LABEL_CHARS), source: clip(report.source, MAX_LABEL_CHARS), url: clip(report.url, MAX_URL_CHARS) },
        },
      });
      invalidate(keyTag(hit.id));
    }
    return hits.map((h) => h.digest.toString('hex'));
  }
}

function unique(digests: Buffer[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const d of digests) seen.set(d.toString('hex'), d);
  return [...seen.values()];
}
