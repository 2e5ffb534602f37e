import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInstance } from './support/instance-fixtures';
import { startTestApp, TestApp, LIMITS_OUT_OF_REACH } from './support/test-app';

const PACE_MS = 600;

/**
 * During a flood of 401s beside admitted requests, the verify route's 401s wait for the next
 * release (AUTH_REFUSAL_PACE_MS) so the loop goes to admitted requests (src/hot-path/refusal-pacer.ts).
 * The pace is large and the flood threshold low (this process is both client and server) so that the
 * wait is unmistakable next to an unpaced answer.
 */
describe('401s of the verify route yield to admitted requests during a flood', () => {
  let t: TestApp;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS_OUT_OF_REACH, AUTH_REFUSAL_PACE_MS: String(PACE_MS), AUTH_REFUSAL_FLOOD_PER_SECOND: '100' });
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    agent.destroy();
    await t?.close();
  });

  /** One verify answer over a kept-alive connection: its status and how long it took. */
  const verify = (key: string) =>
    new Promise<{ status: number; ms: number; body: string }>((resolve, reject) => {
      const started = performance.now();
      const req = request(
        { host: '127.0.0.1', port, agent, path: '/api/auth/verify?service=trading', headers: { 'X-API-Key': key } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const unknownKey = (ref: string) => `trusset_${ref}_${randomBytes(32).toString('hex')}`;

  /** `connections` clients each sending one request after another until `until`. */
  const clients = (connections: number, until: number, key: () => string) =>
    Promise.all(
      Array.from({ length: connections }, async () => {
        const answers: Array<{ status: number; ms: number }> = [];
        while (performance.now() < until) answers.push(await verify(key()));
        return answers;
      }),
    ).then((all) => all.flat());

  it('answers a lone 401 at once; during a flood the 401s wait for the release and valid keys do not', async () => {
    const inst = await createInstance(t, ['trading']);
    const lone = await verify(unknownKey(inst.ref));
    expect(lone.status).toBe(401);
    expect(lone.ms).toBeLessThan(PACE_MS);
    // The key's check cached, as it is for a customer already sending traffic when a flood starts.
    expect((await verify(inst.key)).status).toBe(200);

    const until = performance.now() + 2500;
    // Under a made-up ref, so the flood costs no key lookups once the ref is known absent: on a loaded
    // machine a lookup flood could outlast AUTH_DECISION_TIMEOUT_MS (500 AUTH_ERROR), which is not this test's subject.
    const [flood, admitted] = await Promise.all([clients(40, until, () => unknownKey('Zz9Yy8Xp')), clients(4, until, () => inst.key)]);
    expect(new Set(flood.map((a) => a.status))).toEqual(new Set([401]));
    expect(new Set(admitted.map((a) => a.status))).toEqual(new Set([200]));
    // Some 401s waited a whole pace; no valid key did.
    expect(flood.filter((a) => a.ms >= PACE_MS - 50).length).toBeGreaterThan(0);
    expect(admitted.filter((a) => a.ms >= PACE_MS - 50)).toEqual([]);

    const metrics = await t.http().get('/api/metrics');
    expect(Number(/^trusset_auth_refusals_paced_total (\d+)/m.exec(metrics.text)?.[1])).toBeGreaterThan(0);
  });
});
