import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { freshDatabase, startBuiltService } from '../bench/support';
import { onPostgresServer } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';
import { buildService } from './support/build-service';

/**
 * At least once across a crash: the built service, SIGKILLed right after key changes were answered
 * (before its worker could send anything), delivers every one of those events once it runs again on
 * the same database, because each event was committed with its change (the outbox).
 */

const ROOT = resolve(__dirname, '..');
const ADMIN_TOKEN = `webhook-crash-${randomBytes(24).toString('hex')}`;
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
const ENV = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  RATE_LIMIT_STRICT_PER_MINUTE: '0',
  WEBHOOK_TIMEOUT_MS: '2000',
};

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function kill(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

(onPostgresServer ? describe : describe.skip)('webhooks across a crash (built service, server only)', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let rx: WebhookReceiver;

  beforeAll(async () => {
    buildService();
    db = await freshDatabase(process.env.TEST_DATABASE_URL!, `trusset_whcrash_${process.pid}`);
    rx = await WebhookReceiver.start();
  }, 180_000);

  afterAll(async () => {
    await rx?.close();
    await db?.drop();
  });

  it('delivers, after a restart, every event of the changes answered just before a SIGKILL', async () => {
    // The process polls at start and then once a minute, so nothing it commits later is sent before the kill.
    let svc = await startBuiltService(ROOT, db.url, ADMIN_TOKEN, { ...ENV, WEBHOOK_POLL_INTERVAL_MS: '60000' });
    const created = await call(svc.url, 'POST', '/api/admin/instances', { name: 'Crash hooks', services: ['trading'] });
    const ref = created.body.data.instance.instanceRef;
    const hook = await call(svc.url, 'POST', `/api/admin/instances/${ref}/webhooks`, {
      url: rx.url('/crash'),
      events: ['key.created', 'key.revoked'],
    });
    expect(hook.status).toBe(201);
    const secret: string = hook.body.data.secret;
    const acknowledged: string[] = [];

    for (let trial = 0; trial < 3; trial++) {
      const answers = await Promise.all(
        Array.from({ length: 3 }, (_, i) => call(svc.url, 'POST', `/api/admin/instances/${ref}/keys`, { name: `t${trial} k${i}` })),
      );
      const revoked = await call(svc.url, 'POST', `/api/admin/instances/${ref}/keys/${answers[0].body.data.id}/revoke`);
      await kill(svc.proc);
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
      expect(revoked.status).toBe(200);
      acknowledged.push(...answers.map((a) => `key.created:${a.body.data.id}`), `key.revoked:${answers[0].body.data.id}`);
      expect(rx.received).toHaveLength(trial === 0 ? 0 : acknowledged.length - 4);

      svc = await startBuiltService(ROOT, db.url, ADMIN_TOKEN, { ...ENV, WEBHOOK_POLL_INTERVAL_MS: trial === 2 ? '100' : '60000' });
      await rx.waitFor((all) => all.length >= acknowledged.length, 15_000);
      // Let the drain's last poll pass, so the next trial's changes are committed after it.
      await new Promise((r) => setTimeout(r, 500));
    }
    const got = rx.received.map((r) => `${r.json.type}:${r.json.data.key.id}`);
    expect(got.sort()).toEqual([...acknowledged].sort());
    for (const r of rx.received) expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toEqual(r.json);
    // Each event once: the restarted worker sent what was pending, nothing twice.
    expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(rx.received.length);
    await kill(svc.proc);
  }, 180_000);
});
