import { Inject, Injectable } from '@nestjs/common';
import { AuditEntry, AuditService } from '../audit/audit.service';
import type { Actor } from '../domain/actor';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { sha256 } from '../common/crypto/secrets';
import { Transactions } from '../database/transactions';
import { instanceTag, KeyInvalidationService, keyTag } from '../key-cache/key-invalidation.service';
import { INSTANCE_KEY_FORMAT } from '../domain/instance-key.material';
import { MICA_KEY_FORMAT } from '../domain/mica-credentials';
import type { WebhookOwner } from '../webhooks/webhook-events';
import { WebhookEventInput, WebhookOutbox } from '../webhooks/webhook-outbox.repository';
import { ContainmentRepository } from './containment.repository';
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

/** A reported key of either kind, as its audit entry and event tell of it. */
interface FoundKey {
  digest: Buffer;
  id: string;
  /** What containment did to it now; null when it was final or contained already (nothing is told). */
  contained: 'revoked' | 'paused' | null;
  owner: WebhookOwner;
  action: 'key.leaked' | 'mica.key.leaked';
  target: 'key' | 'mica_key';
  /** An instance key's effective state before (a MiCA key's is not told). */
  from?: string;
  /** The key as its event shows it. */
  key: Record<string, unknown>;
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
    private readonly tx: Transactions,
    private readonly keys: ContainmentRepository,
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
      await this.invalidation.change(async (_manager, invalidate) => {
        const found = [...(await this.containInstanceKeys(instanceDigests)), ...(await this.containMicaKeys(micaDigests))];
        const entries: AuditEntry[] = [];
        const events: WebhookEventInput[] = [];
        for (const key of found) {
          known.add(key.digest.toString('hex'));
          if (key.contained === null) continue;
          const report = firstReport.get(key.digest.toString('hex'))!;
          const [url, source, type] = [
            clip(report.url, MAX_URL_CHARS),
            clip(report.source, MAX_LABEL_CHARS),
            clip(report.type, MAX_LABEL_CHARS),
          ];
          const from = key.from === undefined ? {} : { from: key.from };
          entries.push({
            action: key.action,
            target: { type: key.target, id: key.id },
            ...key.owner,
            details: { ...from, contained: key.contained, reporter, url, source, type },
          });
          events.push({
            owner: key.owner,
            type: key.action,
            data: { key: key.key, ...from, contained: key.contained, report: { reporter, type, source, url } },
          });
          invalidate(keyTag(key.id));
        }
        await this.audit.recordMany(entries, actor, this.tx.manager);
        await this.enqueueAll(events, actor);
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
    return this.invalidation.change(async (_manager, invalidate) => {
      const instanceId = await this.keys.lockInstance(instanceRef);
      if (!instanceId) throw new AppException('NOT_FOUND', 'Instance not found.');
      if (except.length > 0) {
        const found = await this.keys.keysOf(instanceId, except);
        const foreign = except.filter((id) => !found.includes(id));
        // A mistyped id would otherwise revoke the very key the operator meant to keep.
        if (foreign.length > 0) {
          throw new AppException('VALIDATION_ERROR', 'exceptKeyIds names keys that are not keys of this instance.', {
            exceptKeyIds: foreign.map((id) => `${id} is not a key of this instance`),
          });
        }
      }
      const revoked = await this.keys.revokeAllExcept(instanceId, except);
      await this.audit.recordMany(
        revoked.map((k) => ({
          action: 'key.revoked',
          target: { type: 'key', id: k.id },
          instanceId,
          details: { from: k.from_status, reason, breakGlass: true },
        })),
        actor,
        this.tx.manager,
      );
      await this.enqueueAll(
        revoked.map((k) => ({
          owner: { instanceId },
          type: 'key.revoked' as const,
          data: {
            key: { id: k.id, name: k.name, keyPrefix: k.key_prefix, keyHint: k.key_hint, status: 'REVOKED' },
            from: k.from_status,
            reason,
            breakGlass: true,
          },
        })),
        actor,
      );
      if (revoked.length > 0) invalidate(instanceTag(instanceId), ...revoked.map((k) => keyTag(k.id)));
      return { revoked: revoked.length };
    });
  }

  private enqueueAll(events: WebhookEventInput[], actor: Actor): Promise<void> {
    return WebhookOutbox.enqueueMany(
      this.tx.manager,
      events.map((e) => ({ ...e, data: { ...e.data, actor: actorFacts(actor) } })),
    );
  }

  /** Contains the instance keys among the digests, their instances locked first. */
  private async containInstanceKeys(digests: Buffer[]): Promise<FoundKey[]> {
    if (digests.length === 0 || !(await this.keys.lockOwnersOf('instance', digests))) return [];
    const hits = await this.keys.containInstanceKeys(digests, this.config.secretScanning.leakedKeyAction);
    return hits.map((k) => ({
      digest: k.digest,
      id: k.id,
      contained: k.contained,
      owner: { instanceId: k.instance_id },
      action: 'key.leaked',
      target: 'key',
      from: k.effective,
      key: {
        id: k.id,
        name: k.name,
        keyPrefix: k.key_prefix,
        keyHint: k.key_hint,
        status: k.contained === 'revoked' ? 'REVOKED' : 'PAUSED',
      },
    }));
  }

  /** Revokes the MiCA keys among the digests, their accounts locked first. */
  private async containMicaKeys(digests: Buffer[]): Promise<FoundKey[]> {
    if (digests.length === 0 || !(await this.keys.lockOwnersOf('mica', digests))) return [];
    const hits = await this.keys.containMicaKeys(digests);
    return hits.map((k) => ({
      digest: k.digest,
      id: k.id,
      contained: k.open ? 'revoked' : null,
      owner: { developerId: k.developer_id },
      action: 'mica.key.leaked',
      target: 'mica_key',
      key: { id: k.id, name: k.name, keyPrefix: k.key_prefix, keyHint: k.key_hint, isActive: false },
    }));
  }
}

function unique(digests: Buffer[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const d of digests) seen.set(d.toString('hex'), d);
  return [...seen.values()];
}
