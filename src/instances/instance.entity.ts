import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { InstanceStatus } from '../domain/instance-status';
import type { ServiceName } from '../domain/platform-services';

/** Kept for one ORM read: InstanceRepository.page (the filtered, counted list). */
@Entity({ name: 'instances' })
export class Instance {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 8, unique: true })
  ref: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'text', array: true })
  services: ServiceName[];

  @Column({ type: 'varchar', length: 16 })
  status: InstanceStatus;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'archived_at', type: 'timestamptz', nullable: true })
  archivedAt: Date | null;
}
