import { ApiProperty } from '@nestjs/swagger';
import type { AuditEvent } from './audit-event.entity';

/** The actor of an event done with an operator token (SPEC §20): the token's id and its name. */
export interface OperatorActorDto {
  type: 'operator';
  id: string;
  name: string;
}

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

  @ApiProperty({
    description:
      '`admin` (ADMIN_TOKEN), an instance key id, a developer id, or `anonymous` for failed attempts; for an operator token the object `{type: "operator", id, name}`.',
    oneOf: [
      { type: 'string' },
      {
        type: 'object',
        required: ['type', 'id', 'name'],
        properties: { type: { type: 'string', enum: ['operator'] }, id: { type: 'string', format: 'uuid' }, name: { type: 'string' } },
      },
    ],
    example: 'admin',
  })
  actor: string | OperatorActorDto;

  @ApiProperty({ enum: ['admin', 'operator', 'instance_key', 'developer', 'anonymous', 'system'] })
  actorType: string;

  @ApiProperty({ example: 'key.rotated' })
  action: string;

  // Inline rather than a $ref: an OpenAPI 3.0 $ref cannot be nullable, and failed attempts have no target.
  @ApiProperty({
    type: 'object',
    nullable: true,
    required: ['type', 'id'],
    properties: {
      type: { type: 'string', example: 'key', description: 'What was acted on: `instance`, `key`, `developer`, `mica_key`…' },
      id: { type: 'string', example: '3f1c2b7e-4d5a-4e8f-9a0b-1c2d3e4f5a6b' },
    },
  })
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
      actor: actorOfEvent(e),
      actorType: e.actorType,
      action: e.action,
      target: e.targetType && e.targetId ? { type: e.targetType, id: e.targetId } : null,
      ip: e.ip,
      requestId: e.requestId,
      details: e.details,
    };
  }

  /**
   * What a tenant (an instance, a developer) sees of its own trail: who acted (kind and id) always,
   * but never the address or request id of an operator's, the admin's or the system's action, which
   * would tell a tenant where the operators work from and let it correlate their requests (SPEC §8).
   */
  static forTenant(e: AuditEvent): AuditEventDto {
    const dto = AuditEventDto.from(e);
    if (e.actorType === 'admin' || e.actorType === 'operator' || e.actorType === 'system') return { ...dto, ip: null, requestId: null };
    return dto;
  }
}

function actorOfEvent(e: AuditEvent): string | OperatorActorDto {
  if (e.actorType === 'admin') return 'admin';
  if (e.actorType === 'operator' && e.actorId) return { type: 'operator', id: e.actorId, name: e.actorName ?? '' };
  return e.actorId ?? e.actorType;
}
