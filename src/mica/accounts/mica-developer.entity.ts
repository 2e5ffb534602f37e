import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'mica_developers' })
export class MicaDeveloper {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'management_token_digest', type: 'bytea', select: false })
  managementTokenDigest: Buffer;

  @Column({ name: 'token_rotated_at', type: 'timestamptz', nullable: true })
  tokenRotatedAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
