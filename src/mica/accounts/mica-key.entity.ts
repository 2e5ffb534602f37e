import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'mica_keys' })
export class MicaKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'developer_id', type: 'uuid' })
  developerId: string;

  @Column({ type: 'varchar', length: 50 })
  name: string;

  @Column({ name: 'key_digest', type: 'bytea', select: false })
  keyDigest: Buffer;

  @Column({ name: 'key_prefix', type: 'varchar', length: 22 })
  keyPrefix: string;

  @Column({ name: 'key_hint', type: 'varchar', length: 4 })
  keyHint: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'replaced_by_key_id', type: 'uuid', nullable: true })
  replacedByKeyId: string | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  /** bigint arrives from the driver as a string. */
  @Column({ name: 'request_count', type: 'bigint' })
  requestCount: string;
}
