/** Events an instance's endpoints (self-service and admin doors) can subscribe to (SPEC §14). */
export const INSTANCE_EVENT_TYPES = [
  'key.created',
  'key.rotated',
  'key.paused',
  'key.resumed',
  'key.revoked',
  'key.deleted',
  'key.leaked',
  'key.expiring',
  'key.overlap_ending',
  'instance.archived',
  'instance.restored',
  'instance.services_changed',
  'webhook.test',
] as const;

/** Events a MiCA developer account's endpoints can subscribe to. */
export const DEVELOPER_EVENT_TYPES = [
  'mica.key.created',
  'mica.key.rotated',
  'mica.key.revoked',
  'mica.key.leaked',
  'mica.management_token.rotated',
  'webhook.test',
] as const;

export const WEBHOOK_EVENT_TYPES = [...new Set<string>([...INSTANCE_EVENT_TYPES, ...DEVELOPER_EVENT_TYPES])];

export type InstanceEventType = (typeof INSTANCE_EVENT_TYPES)[number];
export type DeveloperEventType = (typeof DEVELOPER_EVENT_TYPES)[number];
export type WebhookEventType = InstanceEventType | DeveloperEventType;

/** Whose endpoints hear an event: an instance's, or a MiCA developer account's. */
export type WebhookOwner = { instanceId: string } | { developerId: string };

export function eventTypesOf(owner: WebhookOwner): readonly string[] {
  return 'instanceId' in owner ? INSTANCE_EVENT_TYPES : DEVELOPER_EVENT_TYPES;
}
