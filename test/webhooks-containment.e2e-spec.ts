import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { adminKeys, createInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, ownServerDatabase, startTestApp, TestApp } from './support/test-app';
import { ReceivedWebhook, WebhookData, WebhookReceiver } from './support/webhook-receiver';

/**
 * The containment paths (SPEC §15, §16) tell the owner's receivers what they did: a reported key
 * sends `key.leaked` / `mica.key.leaked`, a break-glass revocation one `key.revoked` per key, an
 * erasure one `mica.key.revoked` per key; all written in the containment's own transaction and
 * verified here with the reference `standardwebhooks` library.
 */
const SCANNER_TOKEN = 'scanner-token-0123456789abcdefghijklmnopqrstuvwxyz';
const ENV: Record<string, string> = {
  ...LIMITS_OUT_OF_REACH,
  SECRET_SCANNING_TOKEN: SCANNER_TOKEN,
  WEBHOOK_DELIVERY_ENABLED: 'true',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_SCHEDULER_INTERVAL_MS: '3600000',
};
const HEX64 = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/;

function verified(r: ReceivedWebhook, secret: string): { type: string; data: WebhookData } {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }) as { type: string; data: WebhookData };
}

describe('webhooks from containment, break glass and erasure', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  // Its delivery worker must attempt only this suite's deliveries: a database of its own.
  let own: Awaited<ReturnType<typeof ownServerDatabase>>;
  beforeAll(async () => {
    own = await ownServerDatabase('hookscontain');
    [t, receiver] = await Promise.all([startTestApp({ ...ENV, ...own.env }), WebhookReceiver.start()]);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await own.drop();
  });

  const subscribe = async (path: string, headers: Record<string, string>, events: string[]) => {
    const res = await t
      .http()
      .post(path)
      .set(headers)
      .send({ url: receiver.url(`/${randomUUID()}`), events })
      .expect(201);
    return res.body.data as { id: string; url: string; secret: string };
  };
  const forKey = (type: string, keyId: string) => (all: ReceivedWebhook[]) =>
    all.some((r) => r.json.type === type && r.json.data.key?.id === keyId);

  it('sends key.leaked, signed, when a reported instance key is contained, and nothing more when it is reported again', async () => {
    const inst = await createInstance(t);
    const ep = await subscribe(`/api/admin/instances/${inst.ref}/webhooks`, t.admin, ['key.leaked']);
    const location = 'https://git.example.com/team/app/-/blob/main/.env';
    await t
      .http()
      .post('/api/secret-scanning/revoke')
      .set('Authorization', `Bearer ${SCANNER_TOKEN}`)
      .send([{ token: inst.key, type: 'trusset', location }])
      .expect(200);
    const [delivery] = (await receiver.waitFor(forKey('key.leaked', inst.keyId))).filter((r) => r.json.data.key?.id === inst.keyId);
    const payload = verified(delivery, ep.secret);
    expect(payload.data).toMatchObject({
      key: { id: inst.keyId, name: 'Default', status: 'REVOKED' },
      from: 'ACTIVE',
      contained: 'revoked',
      report: { reporter: 'operator', url: location },
      actor: { type: 'system', id: 'secret-scanning:operator' },
    });
    expect(delivery.body).not.toContain(inst.key);
    expect(delivery.body).not.toMatch(HEX64);

    await t
      .http()
      .post('/api/secret-scanning/revoke')
      .set('Authorization', `Bearer ${SCANNER_TOKEN}`)
      .send([{ token: inst.key }])
      .expect(200);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM webhook_events WHERE instance_id = $1 AND type = 'key.leaked'`,
      [inst.id],
    );
    expect(n).toBe(1);
  });

  it('sends mica.key.leaked to the developer when a reported MiCA key is revoked', async () => {
    const dev = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Leaky', email: `leak.${randomUUID()}@example.com` })
        .expect(201)
    ).body.data;
    const auth = { Authorization: `Bearer ${dev.managementToken}` };
    const ep = await subscribe('/api/mica/developer/webhooks', auth, ['mica.key.leaked']);
    const keyId = (await t.http().get('/api/mica/developer/keys').set(auth).expect(200)).body.data.keys[0].id;
    await t
      .http()
      .post('/api/secret-scanning/revoke')
      .set('Authorization', `Bearer ${SCANNER_TOKEN}`)
      .send([{ token: dev.apiKey }])
      .expect(200);
    const [delivery] = (await receiver.waitFor(forKey('mica.key.leaked', keyId))).filter((r) => r.json.data.key?.id === keyId);
    expect(verified(delivery, ep.secret).data).toMatchObject({
      key: { id: keyId, isActive: false },
      contained: 'revoked',
      report: { reporter: 'operator' },
    });
    expect(delivery.body).not.toContain(dev.apiKey);
  });

  it('sends one key.revoked per key revoked by break glass, and none for the key kept', async () => {
    const inst = await createInstance(t);
    const second = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'second' }).expect(201)).body.data;
    const kept = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'kept' }).expect(201)).body.data;
    const ep = await subscribe(`/api/admin/instances/${inst.ref}/webhooks`, t.admin, ['key.revoked']);
    await t
      .http()
      .post(adminKeys(inst.ref, '/revoke-all'))
      .set(t.admin)
      .send({ reason: 'incident 42', exceptKeyIds: [kept.id] })
      .expect(200);
    const all = await receiver.waitFor((r) => forKey('key.revoked', inst.keyId)(r) && forKey('key.revoked', second.id)(r));
    const mine = all.filter((r) => r.json.type === 'key.revoked' && [inst.keyId, second.id, kept.id].includes(r.json.data.key?.id));
    expect(mine.map((r) => verified(r, ep.secret).data.key.id).sort()).toEqual([inst.keyId, second.id].sort());
    for (const r of mine) expect(r.json.data).toMatchObject({ reason: 'incident 42', breakGlass: true, actor: { type: 'admin' } });
  });

  it('sends mica.key.revoked for each key of an erased account', async () => {
    const dev = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Gone', email: `erase.${randomUUID()}@example.com` })
        .expect(201)
    ).body.data;
    const auth = { Authorization: `Bearer ${dev.managementToken}` };
    const ep = await subscribe('/api/mica/developer/webhooks', auth, ['mica.key.revoked']);
    const keyId = (await t.http().get('/api/mica/developer/keys').set(auth).expect(200)).body.data.keys[0].id;
    await t.http().delete(`/api/admin/mica/developers/${dev.developer.id}`).set(t.admin).expect(200);
    const [delivery] = (await receiver.waitFor(forKey('mica.key.revoked', keyId))).filter((r) => r.json.data.key?.id === keyId);
    expect(verified(delivery, ep.secret).data).toMatchObject({ key: { id: keyId, isActive: false }, reason: 'account erased' });
    expect(delivery.body).not.toContain(dev.developer.email);
  });
});
