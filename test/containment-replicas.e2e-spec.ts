import { adminKeys, createInstance } from './support/instance-fixtures';
import { expectServedFromCache, pollUntil, registerMicaDeveloper } from './support/scale-helpers';
import { githubReport, KeysEndpoint, newSigningKey } from './support/secret-scanning-fixtures';
import { LIMITS_OUT_OF_REACH, onPostgresServer, startTestApp, TestApp } from './support/test-app';
import { KeyCheckCache } from '../src/key-cache/key-check.cache';
import { KeyInvalidationService } from '../src/key-cache/key-invalidation.service';
import { generateInstanceKey } from '../src/domain/instance-key.material';

/**
 * Containment, break glass and suspension made through replica A must stop passing on replica B
 * within 1 second (SPEC §6, §15, §16), although B holds a cached success. Only a server has another
 * process to notify; the embedded database is one process.
 */
(onPostgresServer ? describe : describe.skip)('containment and account controls across two replicas (within 1 s on every replica)', () => {
  let a: TestApp;
  let b: TestApp;
  let endpoint: KeysEndpoint;
  const github = newSigningKey();

  beforeAll(async () => {
    endpoint = await new KeysEndpoint().start();
    endpoint.keys = [github];
    const env = { ...LIMITS_OUT_OF_REACH, KEY_CACHE_TTL_MS: '60000', SECRET_SCANNING_GITHUB_KEYS_URL: endpoint.url };
    a = await startTestApp(env);
    b = await startTestApp(env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await endpoint?.stop();
  });

  const verifyOn = (t: TestApp, key: string) => t.http().get('/api/auth/verify').set('X-API-Key', key);
  const micaOn = (t: TestApp, key: string) => t.http().get('/api/mica/v1/health').set('X-API-Key', key);
  const warmB = async (check: () => Promise<{ status: number }>) => {
    expect(b.app.get(KeyInvalidationService).listening).toBe(true);
    await expectServedFromCache(b.app.get(KeyCheckCache), check);
  };
  const refusedOnB = async (check: () => Promise<{ status: number; body: { error?: { code: string } } }>) => {
    const res = await pollUntil(check, (r) => r.status !== 200, 1000);
    return [res.status, res.body.error?.code];
  };

  it('refuses on B an instance key and a MiCA key contained by a GitHub report to A', async () => {
    const inst = await createInstance(a);
    const dev = await registerMicaDeveloper(a);
    await warmB(() => verifyOn(b, inst.key));
    await warmB(() => micaOn(b, dev.apiKey));
    await githubReport(a, github, [{ token: inst.key }, { token: dev.apiKey }]).expect(200);
    expect(await refusedOnB(() => verifyOn(b, inst.key))).toEqual([401, 'AUTH_FAILED']);
    expect(await refusedOnB(() => micaOn(b, dev.apiKey))).toEqual([401, 'INVALID_KEY']);
  });

  it('refuses on B every key cached there after a 1,000-key containment on A (notifications split under the NOTIFY limit)', async () => {
    const inst = await createInstance(a);
    const tokens = [inst.key];
    const rows: Array<[string, Buffer, string, string]> = [];
    for (let i = 1; i < 1000; i++) {
      const m = generateInstanceKey(inst.ref);
      tokens.push(m.plaintext);
      rows.push([`bulk ${i}`, m.digest, m.prefix, m.hint]);
    }
    await a.editRows(
      `INSERT INTO instance_keys (instance_id, name, key_digest, key_prefix, key_hint)
       SELECT $1, n, d, p, h FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[]) AS x(n, d, p, h)`,
      [inst.id, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
    );
    const watched = [tokens[0], tokens[499], tokens[999]];
    for (const key of watched) await warmB(() => verifyOn(b, key));
    await githubReport(
      a,
      github,
      tokens.map((token) => ({ token })),
    ).expect(200);
    for (const key of watched) expect(await refusedOnB(() => verifyOn(b, key))).toEqual([401, 'AUTH_FAILED']);
  });

  it('refuses on B every key of an instance after a break-glass revoke-all on A', async () => {
    const inst = await createInstance(a);
    const second = (await a.http().post(adminKeys(inst.ref)).set(a.admin).send({ name: 'second' }).expect(201)).body.data;
    await warmB(() => verifyOn(b, inst.key));
    await warmB(() => verifyOn(b, second.key));
    expect((await a.http().post(adminKeys(inst.ref, '/revoke-all')).set(a.admin).send({ reason: 'drill' }).expect(200)).body.data).toEqual({
      revoked: 2,
    });
    expect(await refusedOnB(() => verifyOn(b, inst.key))).toEqual([401, 'AUTH_FAILED']);
    expect(await refusedOnB(() => verifyOn(b, second.key))).toEqual([401, 'AUTH_FAILED']);
  });

  it('refuses on B the keys and token of an account suspended through A, and admits them on B after a restore through A', async () => {
    const dev = await registerMicaDeveloper(a);
    const id = await accountId(dev.token);
    await warmB(() => micaOn(b, dev.apiKey));
    await a.http().post(`/api/admin/mica/developers/${id}/suspend`).set(a.admin).send({ reason: 'drill' }).expect(200);
    expect(await refusedOnB(() => micaOn(b, dev.apiKey))).toEqual([401, 'INVALID_KEY']);
    expect((await b.http().get('/api/mica/developer/keys').set('Authorization', `Bearer ${dev.token}`).expect(401)).body.error.code).toBe(
      'INVALID_TOKEN',
    );
    await a.http().post(`/api/admin/mica/developers/${id}/restore`).set(a.admin).expect(200);
    const back = await pollUntil(
      () => micaOn(b, dev.apiKey),
      (r) => r.status === 200,
      1000,
    );
    expect(back.status).toBe(200);
    await b.http().get('/api/mica/developer/keys').set('Authorization', `Bearer ${dev.token}`).expect(200);
  });

  async function accountId(token: string): Promise<string> {
    return (await a.http().get('/api/mica/developer/keys').set('Authorization', `Bearer ${token}`).expect(200)).body.data.developer.id;
  }
});
