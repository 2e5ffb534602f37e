import { randomUUID } from 'node:crypto';
import dns from 'node:dns';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { WebhookDeliveryWorker } from '../src/webhooks/webhook-delivery.worker';
import { WebhookNoticeScheduler } from '../src/webhooks/webhook-notice.scheduler';
import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, onPostgresServer, ownServerDatabase, startTestApp, TestApp } from './support/test-app';
import { ReceivedWebhook, WebhookReceiver } from './support/webhook-receiver';

/**
 * Signed lifecycle webhooks (SPEC §14) through HTTP, delivered to real receivers on 127.0.0.1 and
 * verified with the reference `standardwebhooks` library. The suites run one after another in this
 * file: every app here runs a delivery worker, and each describe's target policy must be the only one
 * attempting its deliveries (startTestApp turns the worker off for every other suite).
 */

const DELIVERY_ENV: Record<string, string> = {
  ...LIMITS_OUT_OF_REACH,
  WEBHOOK_DELIVERY_ENABLED: 'true',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_RETRY_SCHEDULE: '1,2,1',
  WEBHOOK_TIMEOUT_MS: '1000',
  // Tests run the notice sweep themselves.
  WEBHOOK_SCHEDULER_INTERVAL_MS: '3600000',
};

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const email = (tag: string) => `${tag}.${randomUUID()}@example.com`;

/** A new instance and a new MiCA developer, and the webhook door of each with its credential: self-service, admin, developer. */
async function threeDoors(t: TestApp, name: string, tag: string): Promise<Array<[string, Record<string, string>]>> {
  const inst = await createInstance(t);
  const dev = (
    await t
      .http()
      .post('/api/mica/developer/register')
      .send({ name, email: email(tag) })
      .expect(201)
  ).body.data;
  return [
    ['/api/webhooks', { 'X-API-Key': inst.key }],
    [`/api/admin/instances/${inst.ref}/webhooks`, t.admin],
    ['/api/mica/developer/webhooks', bearer(dev.managementToken)],
  ];
}
const HEX64 = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/;

/** The payload, if the reference library accepts the signature for this secret; throws otherwise. */
function verify(r: ReceivedWebhook, secret: string): unknown {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
}

/** Nothing a receiver gets may carry a secret, a digest or a client address. */
function expectNoSecrets(r: ReceivedWebhook, secrets: string[]): void {
  for (const s of secrets) expect(r.body).not.toContain(s);
  expect(r.body).not.toMatch(HEX64);
  expect(r.body).not.toMatch(/whsec_|trusset_[A-Za-z0-9]{8}_[0-9a-f]{10}|"ip"|127\.0\.0\.1|::ffff/);
}

async function subscribe(
  t: TestApp,
  path: string,
  headers: Record<string, string>,
  body: Record<string, unknown>,
): Promise<{ id: string; secret: string }> {
  const res = await t.http().post(path).set(headers).send(body);
  expect([res.status, res.body.error]).toEqual([201, undefined]);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body.data.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  return { id: res.body.data.id, secret: res.body.data.secret };
}

/** A delivery as the deliveries list answers it (the fields the suite reads). */
interface Delivery {
  id: string;
  status: string;
  attempt: number;
  attempts: Array<{
    attempt: number;
    status: string;
    responseStatus: number | null;
    error: string | null;
    nextAttemptAt: string | null;
    durationMs: number;
  }>;
}

async function deliveriesOf(t: TestApp, inst: TestInstance, endpointId: string): Promise<Delivery[]> {
  const res = await t.http().get(`/api/admin/instances/${inst.ref}/webhooks/${endpointId}/deliveries`).set(t.admin).expect(200);
  return res.body.data;
}

async function waitUntil<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms; last ${JSON.stringify(value).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Every app of this file delivers; its database is its own, so no other suite's worker attempts these deliveries (nor these its).
let own: Awaited<ReturnType<typeof ownServerDatabase>>;
beforeAll(async () => {
  own = await ownServerDatabase('webhooks');
});
afterAll(() => own.drop());

describe('webhook endpoints: the three doors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...DELIVERY_ENV, ...own.env });
  });
  afterAll(() => t.close());

  it('shows a whsec_ secret once, with no-store, through each door, and never again', async () => {
    const doors = await threeDoors(t, 'Hooks', 'doors');
    for (const [path, headers] of doors) {
      const { id, secret } = await subscribe(t, path, headers, { url: 'https://hooks.example.com/trusset', description: 'ops' });
      const one = await t.http().get(`${path}/${id}`).set(headers).expect(200);
      expect(one.body.data).toEqual(
        expect.objectContaining({
          id,
          url: 'https://hooks.example.com/trusset',
          description: 'ops',
          events: null,
          enabled: true,
          disabledReason: null,
        }),
      );
      const list = await t.http().get(path).set(headers).expect(200);
      expect(list.body.data.map((e: { id: string }) => e.id)).toContain(id);
      for (const body of [one.text, list.text]) expect(body).not.toContain(secret);
      expect(
        JSON.stringify((await t.http().patch(`${path}/${id}`).set(headers).send({ description: 'changed' }).expect(200)).body),
      ).not.toContain(secret);
    }
  });

  it("records every endpoint change in the owner's audit trail, never the secret", async () => {
    const inst = await createInstance(t);
    const dev = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Audited', email: email('audit') })
        .expect(201)
    ).body.data;
    const ep = await subscribe(t, '/api/webhooks', { 'X-API-Key': inst.key }, { url: 'https://a.example.com/h' });
    await t.http().patch(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).send({ enabled: false }).expect(200);
    const rotated = (await t.http().post(`/api/admin/instances/${inst.ref}/webhooks/${ep.id}/rotate-secret`).set(t.admin).expect(200)).body
      .data.secret;
    await t.http().delete(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).expect(200);
    const trail = (await t.http().get('/api/keys/events').set('X-API-Key', inst.key).expect(200)).body;
    const mine = trail.data.filter((e: { target?: { id: string } }) => e.target?.id === ep.id);
    expect(mine.map((e: { action: string; actorType: string }) => [e.action, e.actorType])).toEqual([
      ['webhook.deleted', 'instance_key'],
      ['webhook.secret_rotated', 'admin'],
      ['webhook.updated', 'instance_key'],
      ['webhook.created', 'instance_key'],
    ]);
    const micaEp = await subscribe(t, '/api/mica/developer/webhooks', bearer(dev.managementToken), { url: 'https://m.example.com/h' });
    const micaTrail = (await t.http().get('/api/mica/developer/events').set(bearer(dev.managementToken)).expect(200)).body;
    expect(
      micaTrail.data.filter((e: { target?: { id: string } }) => e.target?.id === micaEp.id).map((e: { action: string }) => e.action),
    ).toEqual(['webhook.created']);
    for (const body of [JSON.stringify(trail), JSON.stringify(micaTrail)])
      for (const secret of [ep.secret, rotated, micaEp.secret]) expect(body).not.toContain(secret);
  });

  it('lists the self-service and admin doors as one set of endpoints of the instance', async () => {
    const inst = await createInstance(t);
    const viaKey = await subscribe(t, '/api/webhooks', { 'X-API-Key': inst.key }, { url: 'https://a.example.com/h' });
    const viaAdmin = await subscribe(t, `/api/admin/instances/${inst.ref}/webhooks`, t.admin, { url: 'https://b.example.com/h' });
    const mine = (await t.http().get('/api/webhooks').set('X-API-Key', inst.key).expect(200)).body;
    expect(mine.data.map((e: { id: string }) => e.id)).toEqual([viaAdmin.id, viaKey.id]);
    expect(mine.pagination).toEqual({ total: 2, returned: 2, limit: 100, offset: 0, hasMore: false });
  });

  it('refuses unknown event types and events of another door with VALIDATION_ERROR', async () => {
    const inst = await createInstance(t);
    const dev = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Hooks', email: email('filter') })
        .expect(201)
    ).body.data;
    for (const [path, headers, events] of [
      ['/api/webhooks', { 'X-API-Key': inst.key }, ['key.nope']],
      ['/api/webhooks', { 'X-API-Key': inst.key }, ['mica.key.created']],
      ['/api/webhooks', { 'X-API-Key': inst.key }, []],
      ['/api/webhooks', { 'X-API-Key': inst.key }, ['key.revoked', 'key.revoked']],
      ['/api/mica/developer/webhooks', bearer(dev.managementToken), ['key.revoked']],
    ] as const) {
      const res = await t.http().post(path).set(headers).send({ url: 'https://hooks.example.com/x', events });
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    }
    const unknownField = await t
      .http()
      .post('/api/webhooks')
      .set('X-API-Key', inst.key)
      .send({ url: 'https://hooks.example.com/x', secret: 'mine' });
    expect([unknownField.status, unknownField.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const empty = await t.http().patch(`/api/webhooks/${randomUUID()}`).set('X-API-Key', inst.key).send({});
    expect([empty.status, empty.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
  });

  it("answers 404 for another tenant's endpoint on every route of every door, and changes nothing", async () => {
    const a = await createInstance(t);
    const b = await createInstance(t);
    const devA = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Tenant A', email: email('tenA') })
        .expect(201)
    ).body.data;
    const devB = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Tenant B', email: email('tenB') })
        .expect(201)
    ).body.data;
    const ofA = await subscribe(t, '/api/webhooks', { 'X-API-Key': a.key }, { url: 'https://a.example.com/h' });
    const ofDevA = await subscribe(t, '/api/mica/developer/webhooks', bearer(devA.managementToken), { url: 'https://a.example.com/h' });
    const delivery = randomUUID();
    const attempts: Array<[string, Record<string, string>, string]> = [
      ['/api/webhooks', { 'X-API-Key': b.key }, ofA.id],
      [`/api/admin/instances/${b.ref}/webhooks`, t.admin, ofA.id],
      ['/api/mica/developer/webhooks', bearer(devB.managementToken), ofDevA.id],
      ['/api/webhooks', { 'X-API-Key': a.key }, ofDevA.id],
    ];
    for (const [base, headers, id] of attempts) {
      for (const req of [
        t.http().get(`${base}/${id}`),
        t.http().patch(`${base}/${id}`).send({ enabled: false }),
        t.http().delete(`${base}/${id}`),
        t.http().post(`${base}/${id}/rotate-secret`),
        t.http().post(`${base}/${id}/test`),
        t.http().get(`${base}/${id}/deliveries`),
        t.http().post(`${base}/${id}/deliveries/${delivery}/retry`),
      ]) {
        const res = await req.set(headers);
        expect([res.status, res.body.error?.code]).toEqual([404, 'NOT_FOUND']);
      }
    }
    expect((await t.http().get(`/api/webhooks/${ofA.id}`).set('X-API-Key', a.key).expect(200)).body.data.enabled).toBe(true);
    expect(
      (await t.http().get(`/api/mica/developer/webhooks/${ofDevA.id}`).set(bearer(devA.managementToken)).expect(200)).body.data.enabled,
    ).toBe(true);
    const notAnId = await t.http().get('/api/webhooks/not-a-uuid').set('X-API-Key', a.key);
    expect([notAnId.status, notAnId.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('keeps at most WEBHOOK_MAX_ENDPOINTS (10) per instance, also under concurrent creates', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const inst = await createInstance(t);
      const answers = await Promise.all(
        Array.from({ length: 14 }, (_, i) =>
          t
            .http()
            .post(`/api/admin/instances/${inst.ref}/webhooks`)
            .set(t.admin)
            .send({ url: `https://h${i}.example.com/x` }),
        ),
      );
      expect(answers.filter((r) => r.status === 201)).toHaveLength(10);
      for (const r of answers.filter((x) => x.status !== 201))
        expect([r.status, r.body.error.code]).toEqual([409, 'WEBHOOK_LIMIT_REACHED']);
      const list = await t.http().get(`/api/admin/instances/${inst.ref}/webhooks`).set(t.admin).expect(200);
      expect(list.body.pagination.total).toBe(10);
    }
  });

  it('lets only an ACTIVE key manage webhooks: a key in its overlap gets 403 KEY_NOT_ACTIVE, a revoked one 401', async () => {
    const inst = await createInstance(t);
    await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
      .set(t.admin)
      .send({ overlapSeconds: 600 })
      .expect(201);
    for (const req of [t.http().get('/api/webhooks'), t.http().post('/api/webhooks').send({ url: 'https://a.example.com/h' })]) {
      const res = await req.set('X-API-Key', inst.key);
      expect([res.status, res.body.error.code]).toEqual([403, 'KEY_NOT_ACTIVE']);
    }
    await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
      .set(t.admin)
      .expect(200);
    const revoked = await t.http().get('/api/webhooks').set('X-API-Key', inst.key);
    expect([revoked.status, revoked.body.error.code]).toEqual([401, 'AUTH_FAILED']);
    expect((await t.http().get(`/api/admin/instances/${inst.ref}/webhooks`).set(t.admin).expect(200)).body.pagination.total).toBe(0);
  });

  (onPostgresServer ? it : it.skip)(
    'changes nothing when the acting key is revoked while its request waits for the instance lock (server only)',
    async () => {
      const inst = await createInstance(t);
      const locker = new Client({ connectionString: own.url ?? process.env.TEST_DATABASE_URL });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM instances WHERE id = $1 FOR UPDATE', [inst.id]);
        const pending = t
          .http()
          .post('/api/webhooks')
          .set('X-API-Key', inst.key)
          .send({ url: 'https://late.example.com/h' })
          .then((r) => r);
        // Polled from the pool: pg_stat_activity read inside the locker's transaction would be a snapshot.
        await waitUntil(
          'the create waits on the instance lock',
          async () =>
            (
              await t.dataSource.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'SELECT id FROM instances WHERE id = $1 FOR UPDATE%'`,
              )
            )[0].n,
          (n) => n >= 1,
        );
        await locker.query(`UPDATE instance_keys SET status = 'REVOKED', revoked_at = now() WHERE id = $1`, [inst.keyId]);
        await locker.query('COMMIT');
        const res = await pending;
        expect([res.status, res.body.error?.code]).toEqual([401, 'AUTH_FAILED']);
      } finally {
        await locker.end();
      }
      expect((await t.http().get(`/api/admin/instances/${inst.ref}/webhooks`).set(t.admin).expect(200)).body.pagination.total).toBe(0);
    },
  );
});

describe('webhook delivery: events, signatures, retries', () => {
  let t: TestApp;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    t = await startTestApp({ ...DELIVERY_ENV, ...own.env });
    rx = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await t.dataSource.query(`DELETE FROM webhook_endpoints WHERE url LIKE $1`, [`http://127.0.0.1:${rx.port}/%`]);
    await rx.close();
    await t.close();
  });

  /** A fresh instance with an endpoint (on its own path of the shared receiver) subscribed through the self-service door. */
  async function instanceWithEndpoint(events?: string[]) {
    const inst = await createInstance(t, ['trading']);
    const path = `/i/${inst.ref}`;
    const ep = await subscribe(t, '/api/webhooks', { 'X-API-Key': inst.key }, { url: rx.url(path), ...(events ? { events } : {}) });
    const received = (type?: string) =>
      rx.received.filter((r) => r.json.data?.instance?.instanceRef === inst.ref && (!type || r.json.type === type));
    return { inst, ep, received };
  }

  it('sends every instance event of SPEC §14, signed so the reference library verifies it, carrying no secret', async () => {
    const { inst, ep, received } = await instanceWithEndpoint();
    const secrets = [inst.key, ep.secret];
    const created = (
      await t
        .http()
        .post('/api/keys')
        .set('X-API-Key', inst.key)
        .send({ name: 'second', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() })
        .expect(201)
    ).body.data;
    secrets.push(created.key);
    const rotated = (
      await t.http().post(`/api/keys/${created.id}/rotate`).set('X-API-Key', inst.key).send({ overlapSeconds: 3600 }).expect(201)
    ).body.data;
    secrets.push(rotated.key);
    await t.http().post(`/api/keys/${rotated.id}/pause`).set('X-API-Key', inst.key).send({ durationSeconds: 600 }).expect(200);
    await t.http().post(`/api/keys/${rotated.id}/resume`).set('X-API-Key', inst.key).expect(200);
    await t.http().post(`/api/keys/${rotated.id}/revoke`).set('X-API-Key', inst.key).expect(200);
    await t.http().delete(`/api/keys/${rotated.id}`).set('X-API-Key', inst.key).expect(200);
    await t
      .http()
      .patch(`/api/admin/instances/${inst.ref}`)
      .set(t.admin)
      .send({ services: ['trading', 'custody'] })
      .expect(200);
    await t.http().patch(`/api/admin/instances/${inst.ref}`).set(t.admin).send({ name: 'renamed only' }).expect(200);
    await t.http().post(`/api/admin/instances/${inst.ref}/archive`).set(t.admin).expect(200);
    await t.http().post(`/api/admin/instances/${inst.ref}/restore`).set(t.admin).expect(200);
    // Time-driven: a key whose own expiry is within 7 days, and the rotated-away key whose overlap ends within 24 h.
    const expiring = (
      await t
        .http()
        .post(adminKeys(inst.ref))
        .set(t.admin)
        .send({ name: 'short-lived', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() })
        .expect(201)
    ).body.data;
    secrets.push(expiring.key);
    await t.editRows(`UPDATE instance_keys SET expires_at = now() + interval '3 days' WHERE id = $1`, [expiring.id]);
    await t.app.get(WebhookNoticeScheduler).sweep();

    const types = [
      'key.created',
      'key.rotated',
      'key.paused',
      'key.resumed',
      'key.revoked',
      'key.deleted',
      'instance.services_changed',
      'instance.archived',
      'instance.restored',
      'key.expiring',
      'key.overlap_ending',
    ];
    await rx.waitFor(() => types.every((type) => received(type).length > 0));
    for (const r of received()) {
      expect(verify(r, ep.secret)).toEqual(r.json);
      expect(r.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(r.headers['content-type']).toBe('application/json');
      expect(Object.keys(r.json).sort()).toEqual(['data', 'timestamp', 'type']);
      expectNoSecrets(r, secrets);
    }
    // One event per change: the rename alone is not an event, the rotation's successor is a key.created.
    expect(received('instance.services_changed')).toHaveLength(1);
    expect(received('key.created')).toHaveLength(3);

    const rotatedEvent = received('key.rotated')[0].json.data;
    expect(rotatedEvent).toEqual(
      expect.objectContaining({
        instance: { id: inst.id, instanceRef: inst.ref },
        key: expect.objectContaining({ id: created.id, name: 'second', status: 'PENDING_ROTATION', replacedByKeyId: rotated.id }),
        newKey: expect.objectContaining({ id: rotated.id, status: 'ACTIVE', replacesKeyId: created.id }),
        overlapSeconds: 3600,
        actor: { type: 'instance_key', id: inst.keyId },
      }),
    );
    expect(received('key.paused')[0].json.data.key).toEqual(
      expect.objectContaining({ id: rotated.id, status: 'PAUSED', pausedUntil: expect.any(String) }),
    );
    expect(received('key.revoked')[0].json.data).toEqual(
      expect.objectContaining({ from: 'ACTIVE', key: expect.objectContaining({ status: 'REVOKED', revokedAt: expect.any(String) }) }),
    );
    expect(received('key.deleted')[0].json.data.key.id).toBe(rotated.id);
    expect(received('instance.services_changed')[0].json.data).toEqual(
      expect.objectContaining({
        instance: expect.objectContaining({ services: ['trading', 'custody'] }),
        previousServices: ['trading'],
        actor: { type: 'admin', id: null },
      }),
    );
    expect(received('instance.archived')[0].json.data.instance).toEqual(
      expect.objectContaining({ status: 'ARCHIVED', archivedAt: expect.any(String) }),
    );
    expect(received('key.expiring')[0].json.data).toEqual(
      expect.objectContaining({ key: expect.objectContaining({ id: expiring.id, name: 'short-lived' }), expiresAt: expect.any(String) }),
    );
    expect(received('key.overlap_ending')[0].json.data).toEqual(
      expect.objectContaining({
        key: expect.objectContaining({ id: created.id, status: 'PENDING_ROTATION' }),
        overlapEndsAt: expect.any(String),
      }),
    );
  });

  it('emits key.expiring and key.overlap_ending once per key and threshold, however often and concurrently the sweep runs', async () => {
    const { inst, received } = await instanceWithEndpoint(['key.expiring', 'key.overlap_ending']);
    const k = (
      await t
        .http()
        .post(adminKeys(inst.ref))
        .set(t.admin)
        .send({ name: 'expiring', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() })
        .expect(201)
    ).body.data;
    await t.editRows(`UPDATE instance_keys SET expires_at = now() + interval '6 days' WHERE id = $1`, [k.id]);
    const sweeper = t.app.get(WebhookNoticeScheduler);
    await Promise.all([sweeper.sweep(), sweeper.sweep(), sweeper.sweep()]);
    await sweeper.sweep();
    await rx.waitForType('key.expiring');
    // A new threshold (the expiry moved) is told again, once.
    await t.editRows(`UPDATE instance_keys SET expires_at = now() + interval '2 days' WHERE id = $1`, [k.id]);
    await sweeper.sweep();
    await sweeper.sweep();
    await rx.waitFor(() => received('key.expiring').length >= 2);
    // Outside the window: nothing.
    const far = (
      await t
        .http()
        .post(adminKeys(inst.ref))
        .set(t.admin)
        .send({ name: 'far', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() })
        .expect(201)
    ).body.data;
    await sweeper.sweep();
    await new Promise((r) => setTimeout(r, 500));
    expect(received('key.expiring').map((r) => r.json.data.key.id)).toEqual([k.id, k.id]);
    expect(received('key.expiring').map((r) => r.json.data.key.id)).not.toContain(far.id);
    expect(received('key.created')).toHaveLength(0);
  });

  it('sends only the subscribed events, and a change that rolls back sends nothing', async () => {
    const { inst, received } = await instanceWithEndpoint(['key.revoked']);
    const k = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'x' }).expect(201)).body.data;
    // Fill the cap: the eleventh create is refused and its transaction (outbox rows included) rolls back.
    await t
      .http()
      .patch(
        `/api/admin/instances/${inst.ref}/webhooks/${(await t.http().get(`/api/admin/instances/${inst.ref}/webhooks`).set(t.admin)).body.data[0].id}`,
      )
      .set(t.admin)
      .send({ events: ['key.revoked', 'key.created'] })
      .expect(200);
    for (let i = 0; i < 8; i++)
      await t
        .http()
        .post(adminKeys(inst.ref))
        .set(t.admin)
        .send({ name: `fill ${i}` })
        .expect(201);
    const [{ n: before }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM webhook_events WHERE instance_id = $1`, [inst.id]);
    const refused = await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'over the cap' });
    expect(refused.body.error.code).toBe('KEY_LIMIT_REACHED');
    const [{ n: after }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM webhook_events WHERE instance_id = $1`, [inst.id]);
    expect(after).toBe(before);
    await t
      .http()
      .post(adminKeys(inst.ref, `/${k.id}/pause`))
      .set(t.admin)
      .send({ durationSeconds: 60 })
      .expect(200);
    await t
      .http()
      .post(adminKeys(inst.ref, `/${k.id}/revoke`))
      .set(t.admin)
      .expect(200);
    await rx.waitFor(() => received('key.revoked').length === 1 && received('key.created').length === 8);
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(received().map((r) => r.json.type))).toEqual(new Set(['key.revoked', 'key.created']));
    expect(received('key.created').map((r) => r.json.data.key.name)).not.toContain('over the cap');
  });

  it('sends the MiCA account events to the account endpoints, verified by the reference library', async () => {
    const dev = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Mica hooks', email: email('micahooks') })
        .expect(201)
    ).body.data;
    const ep = await subscribe(t, '/api/mica/developer/webhooks', bearer(dev.managementToken), { url: rx.url(`/d/${dev.developer.id}`) });
    const mine = (type: string) => rx.received.filter((r) => r.json.data?.developer?.id === dev.developer.id && r.json.type === type);
    const secrets = [dev.apiKey, dev.managementToken, ep.secret];
    const second = (await t.http().post('/api/mica/developer/keys').set(bearer(dev.managementToken)).send({ name: 'two' }).expect(201)).body
      .data;
    const rotated = (await t.http().post(`/api/mica/developer/keys/${second.id}/rotate`).set(bearer(dev.managementToken)).expect(201)).body
      .data;
    await t.http().delete(`/api/mica/developer/keys/${rotated.id}`).set(bearer(dev.managementToken)).expect(200);
    const token = (await t.http().post('/api/mica/developer/management-token/rotate').set(bearer(dev.managementToken)).expect(201)).body
      .data.managementToken;
    secrets.push(second.apiKey, rotated.apiKey, token);
    await rx.waitFor(() =>
      ['mica.key.created', 'mica.key.rotated', 'mica.key.revoked', 'mica.management_token.rotated'].every((ty) => mine(ty).length > 0),
    );
    for (const ty of ['mica.key.created', 'mica.key.rotated', 'mica.key.revoked', 'mica.management_token.rotated']) {
      for (const r of mine(ty)) {
        expect(verify(r, ep.secret)).toEqual(r.json);
        expectNoSecrets(r, secrets);
      }
    }
    expect(mine('mica.key.created').map((r) => r.json.data.key.id)).toEqual([second.id, rotated.id]);
    expect(mine('mica.key.rotated')[0].json.data).toEqual(
      expect.objectContaining({
        key: expect.objectContaining({ id: second.id, isActive: false }),
        newKey: expect.objectContaining({ id: rotated.id, isActive: true }),
      }),
    );
    expect(mine('mica.key.revoked')[0].json.data.key).toEqual(
      expect.objectContaining({ id: rotated.id, isActive: false, revokedAt: expect.any(String) }),
    );
    expect(mine('mica.management_token.rotated')[0].json.data).toEqual({
      developer: { id: dev.developer.id },
      rotatedAt: expect.any(String),
      actor: { type: 'developer', id: dev.developer.id },
    });
  });

  it('sends webhook.test through each door, whatever the event filter', async () => {
    const doors = await threeDoors(t, 'Test hooks', 'testhook');
    for (const [path, headers] of doors) {
      const events = path.includes('mica') ? ['mica.key.revoked'] : ['key.revoked'];
      const ep = await subscribe(t, path, headers, { url: rx.url(`/test/${randomUUID()}`), events });
      const sent = await t.http().post(`${path}/${ep.id}/test`).set(headers);
      expect(sent.status).toBe(202);
      const [r] = await rx
        .waitFor((all) => all.some((x) => x.headers['webhook-id'] === sent.body.data.webhookId))
        .then((all) => all.filter((x) => x.headers['webhook-id'] === sent.body.data.webhookId));
      expect(verify(r, ep.secret)).toEqual({
        type: 'webhook.test',
        timestamp: expect.any(String),
        data: expect.objectContaining({ endpointId: ep.id }),
      });
      const log = await waitUntil(
        'delivered',
        async () => (await t.http().get(`${path}/${ep.id}/deliveries`).set(headers).expect(200)).body.data,
        (d) => d[0]?.status === 'DELIVERED',
      );
      expect(log[0]).toEqual(
        expect.objectContaining({
          id: sent.body.data.deliveryId,
          eventId: sent.body.data.eventId,
          type: 'webhook.test',
          status: 'DELIVERED',
          attempt: 1,
          responseStatus: 204,
          error: null,
          nextAttemptAt: null,
        }),
      );
      expect(log[0].attempts).toEqual([
        expect.objectContaining({ attempt: 1, status: 'DELIVERED', responseStatus: 204, error: null, nextAttemptAt: null }),
      ]);
    }
  });

  it('signs with both secrets for 24 h after a rotation (two signatures), then with the new one alone', async () => {
    const { inst, ep, received } = await instanceWithEndpoint(['key.created']);
    const rotatedSecret = await t.http().post(`/api/webhooks/${ep.id}/rotate-secret`).set('X-API-Key', inst.key);
    expect([rotatedSecret.status, rotatedSecret.headers['cache-control']]).toEqual([200, 'no-store']);
    const fresh: string = rotatedSecret.body.data.secret;
    expect(fresh).not.toBe(ep.secret);
    const overlapEnd = Date.parse(rotatedSecret.body.data.previousSecretExpiresAt) - Date.now();
    expect(overlapEnd).toBeGreaterThan(86_400_000 - 60_000);
    expect(overlapEnd).toBeLessThanOrEqual(86_400_000 + 60_000);

    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'during overlap' }).expect(201);
    const [during] = await rx.waitFor(() => received('key.created').length === 1).then(() => received('key.created'));
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(during, fresh)).toEqual(during.json);
    expect(verify(during, ep.secret)).toEqual(during.json);

    await t.editRows(`UPDATE webhook_endpoints SET previous_key_expires_at = now() - interval '1 second' WHERE id = $1`, [ep.id]);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'after overlap' }).expect(201);
    await rx.waitFor(() => received('key.created').length === 2);
    const after = received('key.created')[1];
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verify(after, fresh)).toEqual(after.json);
    expect(() => verify(after, ep.secret)).toThrow();
    expect(
      (await t.http().get(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).expect(200)).body.data.previousSecretExpiresAt,
    ).toBeNull();
  });

  it('retries on the configured schedule with the same webhook-id, and records every attempt', async () => {
    const { inst, ep, received } = await instanceWithEndpoint(['key.created']);
    rx.answer(500, 503);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'retry me' }).expect(201);
    await rx.waitFor(() => received('key.created').length === 3, 15_000);
    const tries = received('key.created');
    expect(new Set(tries.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Set(tries.map((r) => r.body)).size).toBe(1);
    for (const r of tries) expect(verify(r, ep.secret)).toEqual(r.json);
    // Schedule 1 s, then 2 s (±10 % jitter, plus up to a poll interval).
    const gap1 = tries[1].at - tries[0].at;
    const gap2 = tries[2].at - tries[1].at;
    expect(gap1).toBeGreaterThanOrEqual(850);
    expect(gap1).toBeLessThan(1_800);
    expect(gap2).toBeGreaterThanOrEqual(1_750);
    expect(gap2).toBeLessThan(3_000);
    const [d] = await waitUntil(
      'delivered',
      () => deliveriesOf(t, inst, ep.id),
      (ds) => ds[0]?.status === 'DELIVERED',
    );
    expect(d).toEqual(
      expect.objectContaining({ webhookId: tries[0].headers['webhook-id'], attempt: 3, status: 'DELIVERED', responseStatus: 204 }),
    );
    expect(d.attempts.map((a) => [a.attempt, a.status, a.responseStatus])).toEqual([
      [1, 'FAILED', 500],
      [2, 'FAILED', 503],
      [3, 'DELIVERED', 204],
    ]);
    expect(d.attempts[0].error).toBe('receiver answered 500');
    expect(d.attempts[0].nextAttemptAt).not.toBeNull();
  });

  it('gives up after the last retry of the schedule, and a manual retry sends it again under the same webhook-id', async () => {
    const { inst, ep, received } = await instanceWithEndpoint(['key.created']);
    rx.answer(500, 500, 500, 500);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'doomed' }).expect(201);
    const [d] = await waitUntil(
      'failed',
      () => deliveriesOf(t, inst, ep.id),
      (ds) => ds[0]?.status === 'FAILED',
      15_000,
    );
    expect(d).toEqual(expect.objectContaining({ attempt: 4, status: 'FAILED', nextAttemptAt: null, responseStatus: 500 }));
    expect(received('key.created')).toHaveLength(4);

    const retried = await t.http().post(`/api/webhooks/${ep.id}/deliveries/${d.id}/retry`).set('X-API-Key', inst.key);
    expect([retried.status, retried.body.data.status]).toEqual([202, 'PENDING']);
    await rx.waitFor(() => received('key.created').length === 5);
    expect(new Set(received('key.created').map((r) => r.headers['webhook-id'])).size).toBe(1);
    const [again] = await waitUntil(
      'delivered',
      () => deliveriesOf(t, inst, ep.id),
      (ds) => ds[0]?.status === 'DELIVERED',
    );
    expect(again.attempt).toBe(5);
  });

  it('disables the endpoint when the receiver answers 410, records why, and sends nothing more', async () => {
    const { inst, ep, received } = await instanceWithEndpoint(['key.created']);
    rx.answer(410);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'gone' }).expect(201);
    const [d] = await waitUntil(
      'failed',
      () => deliveriesOf(t, inst, ep.id),
      (ds) => ds[0]?.status === 'FAILED',
    );
    expect(d).toEqual(expect.objectContaining({ attempt: 1, responseStatus: 410, error: expect.stringContaining('410') }));
    const endpoint = (await t.http().get(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).expect(200)).body.data;
    expect(endpoint).toEqual(expect.objectContaining({ enabled: false, disabledReason: expect.stringContaining('410 Gone') }));
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'after gone' }).expect(201);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(received('key.created')).toHaveLength(1);
    const test = await t.http().post(`/api/webhooks/${ep.id}/test`).set('X-API-Key', inst.key);
    expect([test.status, test.body.error.code]).toEqual([409, 'CONFLICT']);
    // Enabling it again clears the reason and delivers new events.
    await t.http().patch(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).send({ enabled: true }).expect(200);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'back' }).expect(201);
    await rx.waitFor(() => received('key.created').some((r) => r.json.data.key.name === 'back'));
  });

  it('bounds a hanging receiver by WEBHOOK_TIMEOUT_MS, and another endpoint is delivered meanwhile', async () => {
    const slow = await instanceWithEndpoint(['key.created']);
    const fast = await instanceWithEndpoint(['key.created']);
    rx.answer('hang');
    const started = Date.now();
    await t.http().post(adminKeys(slow.inst.ref)).set(t.admin).send({ name: 'slow' }).expect(201);
    await rx.waitFor(() => slow.received('key.created').length === 1);
    await t.http().post(adminKeys(fast.inst.ref)).set(t.admin).send({ name: 'fast' }).expect(201);
    await rx.waitFor(() => fast.received('key.created').length === 1);
    expect(Date.now() - started).toBeLessThan(1_000);
    const [d] = await waitUntil(
      'timed out',
      () => deliveriesOf(t, slow.inst, slow.ep.id),
      (ds) => ds[0]?.attempts?.length >= 1,
    );
    expect(d.attempts[0]).toEqual(expect.objectContaining({ status: 'FAILED', responseStatus: null, error: 'timed out after 1000 ms' }));
    expect(d.attempts[0].durationMs).toBeGreaterThanOrEqual(990);
    expect(d.attempts[0].durationMs).toBeLessThan(1_500);
    expect(d.status).toBe('PENDING');
    // The retry is answered and delivered.
    await waitUntil(
      'delivered',
      () => deliveriesOf(t, slow.inst, slow.ep.id),
      (ds) => ds[0]?.status === 'DELIVERED',
    );
  });

  it('does not follow redirects: a 3xx is a failed attempt and the other address gets nothing', async () => {
    const { inst, ep, received } = await instanceWithEndpoint(['key.created']);
    const elsewhere = await WebhookReceiver.start();
    try {
      rx.answer({ status: 307, headers: { location: elsewhere.url() } });
      await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'redirected' }).expect(201);
      const [d] = await waitUntil(
        'attempted',
        () => deliveriesOf(t, inst, ep.id),
        (ds) => ds[0]?.attempts?.length >= 1,
      );
      expect(d.attempts[0]).toEqual(expect.objectContaining({ status: 'FAILED', responseStatus: 307 }));
      await rx.waitFor(() => received('key.created').length === 2);
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('stops pending deliveries of a disabled endpoint, and deletes those of a deleted one', async () => {
    const { inst, ep, received } = await instanceWithEndpoint(['key.created']);
    rx.answer(500);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'one' }).expect(201);
    await rx.waitFor(() => received('key.created').length === 1);
    await t.http().patch(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).send({ enabled: false }).expect(200);
    await new Promise((r) => setTimeout(r, 1_800));
    expect(received('key.created')).toHaveLength(1);
    const [d] = await deliveriesOf(t, inst, ep.id);
    expect(d).toEqual(expect.objectContaining({ status: 'CANCELLED', nextAttemptAt: null }));
    expect((await t.http().get(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key)).body.data).toEqual(
      expect.objectContaining({ enabled: false, disabledReason: 'disabled by its owner' }),
    );

    await t.http().delete(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).expect(200);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1`, [ep.id]);
    expect(n).toBe(0);
    expect((await t.http().get(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key)).status).toBe(404);
  });

  it('prunes events, deliveries and attempts older than WEBHOOK_RETENTION_DAYS', async () => {
    const { inst, ep, received } = await instanceWithEndpoint(['key.created']);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'old news' }).expect(201);
    await rx.waitFor(() => received('key.created').length === 1);
    await waitUntil(
      'delivered',
      () => deliveriesOf(t, inst, ep.id),
      (ds) => ds[0]?.status === 'DELIVERED',
    );
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'recent' }).expect(201);
    await rx.waitFor(() => received('key.created').length === 2);
    await t.editRows(
      `UPDATE webhook_events SET created_at = now() - interval '31 days' WHERE id IN (SELECT d.event_id FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.endpoint_id = $1 AND e.body LIKE '%old news%')`,
      [ep.id],
    );
    expect(await t.app.get(WebhookDeliveryWorker).prune()).toBeGreaterThanOrEqual(1);
    const left = await deliveriesOf(t, inst, ep.id);
    expect(left).toHaveLength(1);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1`,
      [ep.id],
    );
    expect(n).toBe(1);
  });

  it('exports deliveries by outcome, queue depth and the oldest pending age as Prometheus metrics', async () => {
    const { inst, ep } = await instanceWithEndpoint(['key.created']);
    rx.answer('hang');
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'metered' }).expect(201);
    await waitUntil(
      'attempted',
      () => deliveriesOf(t, inst, ep.id),
      (ds) => ds[0]?.attempts?.length >= 1,
    );
    await t.editRows(
      `UPDATE webhook_deliveries SET created_at = now() - interval '1 hour', next_attempt_at = now() + interval '1 hour' WHERE endpoint_id = $1`,
      [ep.id],
    );
    const text = (await t.http().get('/api/metrics').expect(200)).text;
    expect(text).toMatch(/^trusset_webhook_deliveries_total\{outcome="delivered"\} \d+$/m);
    expect(text).toMatch(/^trusset_webhook_deliveries_total\{outcome="failed_retrying"\} \d+$/m);
    const depth = Number(/^trusset_webhook_queue_depth (\d+)$/m.exec(text)?.[1]);
    expect(depth).toBeGreaterThanOrEqual(1);
    const age = Number(/^trusset_webhook_oldest_pending_age_seconds ([\d.e+]+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(3_500);
    await t.http().delete(`/api/webhooks/${ep.id}`).set('X-API-Key', inst.key).expect(200);
  });
});

describe('webhook targets: SSRF refusals (private targets and http not allowed)', () => {
  let t: TestApp;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    t = await startTestApp({ ...DELIVERY_ENV, ...own.env, WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' });
    rx = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await rx.close();
    await t.close();
  });

  it('refuses a URL that is not https or names a private, loopback, link-local or metadata address with VALIDATION_ERROR, on create and on change', async () => {
    const inst = await createInstance(t);
    const ok = await subscribe(t, '/api/webhooks', { 'X-API-Key': inst.key }, { url: 'https://hooks.example.com/h' });
    for (const url of [
      'http://hooks.example.com/h',
      'ftp://hooks.example.com/h',
      'https://localhost/h',
      'https://LocalHost./h',
      'https://app.localhost:8443/h',
      'https://127.0.0.1/h',
      'https://127.1/h',
      'https://2130706433/h',
      'https://10.0.0.8/h',
      'https://172.20.1.1/h',
      'https://192.168.0.10/h',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/h',
      'https://[::ffff:127.0.0.1]/h',
      'https://[fd00:ec2::254]/h',
      'https://[fe80::1]/h',
      'https://user:pass@hooks.example.com/h',
      'not a url',
    ]) {
      const created = await t.http().post('/api/webhooks').set('X-API-Key', inst.key).send({ url });
      expect([url, created.status, created.body.error?.code]).toEqual([url, 400, 'VALIDATION_ERROR']);
      expect(created.body.error.details.url).toBeDefined();
      const changed = await t.http().patch(`/api/webhooks/${ok.id}`).set('X-API-Key', inst.key).send({ url });
      expect([url, changed.status, changed.body.error?.code]).toEqual([url, 400, 'VALIDATION_ERROR']);
    }
    expect((await t.http().get(`/api/webhooks/${ok.id}`).set('X-API-Key', inst.key)).body.data.url).toBe('https://hooks.example.com/h');
  });

  it('checks the address again on every attempt after resolving the name: a name that now resolves to 127.0.0.1 is refused and nothing is sent', async () => {
    const inst = await createInstance(t);
    const name = `rebind-${inst.ref.toLowerCase()}.example.com`;
    // A resolver under the test's control: the name is public-looking when the endpoint is created
    // (no DNS then), and resolves to loopback, to the metadata address, or to a mix, at attempt time.
    const answers: Record<string, dns.LookupAddress[]> = {};
    const real = dns.lookup;
    const spy = jest.spyOn(dns, 'lookup').mockImplementation(((host: string, options: unknown, callback: (...args: unknown[]) => void) => {
      const fake = Object.entries(answers).find(([prefix]) => host.startsWith(prefix));
      if (!fake) return (real as (...args: unknown[]) => void)(host, options, callback);
      process.nextTick(() => callback(null, fake[1]));
    }) as unknown as typeof dns.lookup);
    try {
      const ep = await subscribe(t, `/api/admin/instances/${inst.ref}/webhooks`, t.admin, {
        url: `https://${name}:${rx.port}/h`,
        events: ['key.created'],
      });
      answers[name] = [{ address: '127.0.0.1', family: 4 }];
      await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'to loopback' }).expect(201);
      await waitUntil(
        'refused',
        () => deliveriesOf(t, inst, ep.id),
        (d) => d[0]?.attempts?.length >= 1,
      );
      answers[name] = [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ];
      await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'to metadata' }).expect(201);
      const ds = await waitUntil(
        'refused',
        () => deliveriesOf(t, inst, ep.id),
        (d) => d.length === 2 && d.every((x) => x.attempts.length >= 1),
      );
      for (const d of ds) {
        expect(d.attempts[0]).toEqual(
          expect.objectContaining({
            status: 'REFUSED',
            responseStatus: null,
            error: `refused: ${name} resolves to a private, loopback or link-local address`,
          }),
        );
        expect(d.status).toBe('PENDING');
      }
      expect(rx.received).toHaveLength(0);
      await t.http().delete(`/api/admin/instances/${inst.ref}/webhooks/${ep.id}`).set(t.admin).expect(200);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses an address changed behind the API to a literal loopback one, on the attempt', async () => {
    const inst = await createInstance(t);
    const ep = await subscribe(t, `/api/admin/instances/${inst.ref}/webhooks`, t.admin, {
      url: 'https://hooks.example.com/h',
      events: ['key.created'],
    });
    await t.editRows(`UPDATE webhook_endpoints SET url = $2 WHERE id = $1`, [ep.id, `https://127.0.0.1:${rx.port}/h`]);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'literal' }).expect(201);
    const [d] = await waitUntil(
      'refused',
      () => deliveriesOf(t, inst, ep.id),
      (x) => x[0]?.attempts?.length >= 1,
    );
    expect(d.attempts[0]).toEqual(expect.objectContaining({ status: 'REFUSED', error: expect.stringMatching(/^refused: .*private/) }));
    expect(rx.received).toHaveLength(0);
    await t.http().delete(`/api/admin/instances/${inst.ref}/webhooks/${ep.id}`).set(t.admin).expect(200);
  });

  it('refuses http targets on every attempt too, when WEBHOOK_ALLOW_HTTP is off', async () => {
    const inst = await createInstance(t);
    const ep = await subscribe(t, `/api/admin/instances/${inst.ref}/webhooks`, t.admin, {
      url: 'https://hooks.example.com/h',
      events: ['key.created'],
    });
    await t.editRows(`UPDATE webhook_endpoints SET url = $2 WHERE id = $1`, [ep.id, 'http://hooks.example.com/h']);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'plain http' }).expect(201);
    const [d] = await waitUntil(
      'refused',
      () => deliveriesOf(t, inst, ep.id),
      (x) => x[0]?.attempts?.length >= 1,
    );
    expect(d.attempts[0]).toEqual(expect.objectContaining({ status: 'REFUSED', error: 'refused: url must use https' }));
    await t.http().delete(`/api/admin/instances/${inst.ref}/webhooks/${ep.id}`).set(t.admin).expect(200);
  });
});

(onPostgresServer ? describe : describe.skip)('two replicas on one PostgreSQL server (server only)', () => {
  let a: TestApp;
  let b: TestApp;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    a = await startTestApp({ ...DELIVERY_ENV, ...own.env });
    b = await startTestApp({ ...DELIVERY_ENV, ...own.env });
    rx = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await a.dataSource.query(`DELETE FROM webhook_endpoints WHERE url LIKE $1`, [`http://127.0.0.1:${rx.port}/%`]);
    await rx.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('makes each attempt on one replica only: 10 trials of 20 events, each received once and attempted once', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const inst = await createInstance(a);
      const ep = await subscribe(a, `/api/admin/instances/${inst.ref}/webhooks`, a.admin, {
        url: rx.url(`/r/${inst.ref}`),
        events: ['key.created'],
      });
      const sent = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).http().post(`/api/admin/instances/${inst.ref}/webhooks/${ep.id}/test`).set(a.admin),
        ),
      );
      const ids = sent.map((s) => s.body.data.webhookId);
      expect(new Set(ids).size).toBe(20);
      await rx.waitFor((all) => ids.every((id) => all.some((r) => r.headers['webhook-id'] === id)));
      const ds = await waitUntil(
        'all delivered',
        () => deliveriesOf(a, inst, ep.id),
        (d) => d.length === 20 && d.every((x) => x.status === 'DELIVERED'),
      );
      await new Promise((r) => setTimeout(r, 200));
      for (const id of ids) expect(rx.received.filter((r) => r.headers['webhook-id'] === id)).toHaveLength(1);
      for (const d of ds) expect(d.attempts).toHaveLength(1);
    }
  });

  it('emits a time-driven notice once when both replicas sweep at the same time', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const inst = await createInstance(a);
      const path = `/n/${inst.ref}`;
      await subscribe(a, `/api/admin/instances/${inst.ref}/webhooks`, a.admin, { url: rx.url(path), events: ['key.expiring'] });
      const k = (
        await a
          .http()
          .post(adminKeys(inst.ref))
          .set(a.admin)
          .send({ name: 'soon', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() })
          .expect(201)
      ).body.data;
      await a.editRows(`UPDATE instance_keys SET expires_at = now() + interval '1 day' WHERE id = $1`, [k.id]);
      const sweeps = [a, b, a, b].map((x) => x.app.get(WebhookNoticeScheduler).sweep());
      await Promise.all(sweeps);
      await a.app.get(WebhookNoticeScheduler).sweep();
      await b.app.get(WebhookNoticeScheduler).sweep();
      const mine = () => rx.received.filter((r) => r.json.type === 'key.expiring' && r.json.data.key.id === k.id);
      await rx.waitFor(() => mine().length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(mine()).toHaveLength(1);
    }
  });
});
