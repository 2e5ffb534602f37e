import { ApiProperty } from '@nestjs/swagger';
import type { AuditEvent } from './audit-event.entity';

export class AuditTargetDto {
  @ApiProperty({ example: 'key', description: 'What was acted on: `instance`, `key`, `developer`, `mica_key`…' })
  type: string;

  @ApiProperty({ example: '3f1c2b7e-4d5a-4e8f-9a0b-1c2d3e4f5a6b' })
  id: string;
}

export class AuditEventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-27T10:00:00.000Z' })
  at: string;

  @ApiProperty({ description: '`admin`, an instance key id, a developer id, or `anonymous` for failed attempts.', example: 'admin' })
  actor: string;

  @ApiProperty({ enum: ['admin', 'instance_key', 'developer', 'anonymous', 'system'] })
  actorType: string;

  @ApiProperty({ example: 'key.rotated' })
  action: string;

  @ApiProperty({ type: AuditTargetDto, nullable: true })
  target: AuditTargetDto | null;

  @ApiProperty({ type: String, example: '203.0.113.7', nullable: true })
  ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  requestId: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  details: Record<string, unknown>;

  static from(e: AuditEvent): AuditEventDto {
    return {
      id: e.id,
      at: e.at.toISOString(),
      actor: e.actorType === 'admin' ? 'admin' : (e.actorId ?? e.actorType),
      actorType: e.actorType,
      action: e.action,
      target: e.targetType && e.targetId ? { type: e.targetType, id: e.targetId } : null,
      ip: e.ip,
      requestId: e.requestId,
      details: e.details,
    };
  }

  /**
   * What a tenant sees of its own trail: who acted (kind and id) always, but never the address or
   * request id of an operator's (or the system's) action, which would tell a tenant where the
   * operators work from and let it correlate their requests.
   */
  static forTenant(e: AuditEvent): AuditEventDto {
    const dto = AuditEventDto.from(e);
    if (e.actorType === 'admin' || e.actorType === 'system') return { ...dto, ip: null, requestId: null };
    return dto;
  }
}
