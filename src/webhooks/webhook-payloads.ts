import type { Actor } from '../domain/actor';

/**
 * What an event's `data` may say about a thing: ids, names, states and times, picked field by field
 * (never spread from a DTO, so a plaintext key, a digest or a client address cannot ride along).
 */
export interface KeyFacts {
  id: string;
  name: string;
  keyPrefix: string;
  keyHint: string;
  status: string;
  createdAt: string;
  expiresAt: string | null;
  rotatedAt?: string | null;
  revokedAt?: string | null;
  pausedUntil?: string | null;
  replacesKeyId?: string | null;
  replacedByKeyId?: string | null;
}

export function keyFacts(k: KeyFacts): KeyFacts {
  return {
    id: k.id,
    name: k.name,
    keyPrefix: k.keyPrefix,
    keyHint: k.keyHint,
    status: k.status,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    rotatedAt: k.rotatedAt ?? null,
    revokedAt: k.revokedAt ?? null,
    pausedUntil: k.pausedUntil ?? null,
    replacesKeyId: k.replacesKeyId ?? null,
    replacedByKeyId: k.replacedByKeyId ?? null,
  };
}

export interface MicaKeyFacts {
  id: string;
  name: string;
  keyPrefix: string;
  keyHint: string;
  createdAt: string;
  revokedAt: string | null;
  isActive: boolean;
}

export function micaKeyFacts(k: MicaKeyFacts): MicaKeyFacts {
  return {
    id: k.id,
    name: k.name,
    keyPrefix: k.keyPrefix,
    keyHint: k.keyHint,
    createdAt: k.createdAt,
    revokedAt: k.revokedAt,
    isActive: k.isActive,
  };
}

/** Who acted, by kind and id: never the address or request id (those stay in the operator's audit trail). */
export function actorFacts(actor: Actor): { type: string; id: string | null } {
  return { type: actor.type, id: actor.id };
}

export function instanceFacts(i: { id: string; ref: string }): { id: string; instanceRef: string } {
  return { id: i.id, instanceRef: i.ref };
}
