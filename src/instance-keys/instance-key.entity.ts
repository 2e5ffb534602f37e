import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ServiceName } from '../domain/platform-services';
import type { StoredKeyStatus } from '../domain/instance-key.state';

/** An instance API key. Only the SHA-256 digest of the whole key is stored; `status` never holds EXPIRED. */
@Entity({ name: 'instance_keys' })
export class InstanceKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'instance_id', type: 'uuid' })
  instanceId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'key_digest', type: 'bytea', select: false })
  keyDigest: Buffer;

  @Column({ name: 'key_prefix', type: 'varchar', length: 32 })
  keyPrefix: string;

  @Column({ name: 'key_hint', type: 'varchar', length: 8 })
  keyHint: string;

  @Column({ type: 'varchar', length: 20 })
  status: StoredKeyStatus;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'paused_until', type: 'timestamptz', nullable: true })
  pausedUntil: Date | null;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'replaces_key_id', type: 'uuid', nullable: true })
  replacesKeyId: string | null;

  @Column({ name: 'replaced_by_key_id', type: 'uuid', nullable: true })
  replacedByKeyId: string | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'request_count', type: 'bigint' })
  requestCount: string;

  /** SPEC §12 restrictions; null = none. */
  @Column({ type: 'text', array: true, nullable: true })
  services: ServiceName[] | null;

  @Column({ name: 'allowed_cidrs', type: 'text', array: true, nullable: true })
  allowedCidrs: string[] | null;

  @Column({ name: 'rate_limit_per_minute', type: 'integer', nullable: true })
  rateLimitPerMinute: number | null;
}
