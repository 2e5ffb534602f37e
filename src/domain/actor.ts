/** Who can stand behind a change in the audit trail. */
export type ActorType = 'admin' | 'operator' | 'instance_key' | 'developer' | 'anonymous' | 'system';

/** Who did something, from where: what the audit trail records for every change. */
export interface Actor {
  type: ActorType;
  id: string | null;
  /** The operator token's name, for `type: 'operator'`. */
  name?: string;
  ip: string | null;
  requestId: string | null;
}
