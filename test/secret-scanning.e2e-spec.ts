import { randomBytes } from 'node:crypto';
import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { registerMicaDeveloper } from './support/scale-helpers';
import { githubReport, newSigningKey, sha256Hex, signBody, withGithubKeys } from './support/secret-scanning-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp } from './support/test-app';
import { generateInstanceKey } from '../src/domain/instance-key.material';

const SCANNER_TOKEN = 'operator-scanner-token-0123456789abcdefghij';
const unknownInstanceKey = () => `trusset_ZZzz0000_${randomBytes(32).toString('hex')}`;
const unknownMicaKey = () => `trusset_mica_${randomBytes(24).toString('hex')}`;

describe('secret-scanning receivers and leaked-key containment (SPEC §15)', () => {
  const github = newSigningKey();
  const s = withGithubKeys(github, { SECRET_SCANNING_TOKEN: SCANNER_TOKEN });

  const verify = (key: string) => s.t.http().get('/api/auth/verify').set('X-API-Key', key);
  const micaHealth = (key: string) => s.t.http().get('/api/mica/v1/health').set('X-API-Key', key);
  const events = async (inst: TestInstance) =>
    (await s.t.http().get(`/api/admin/instances/${inst.ref}/events`).set(s.t.admin).expect(200)).body.data;
  const keyState = async (inst: TestInstance, keyId: string) =>
    (
      await s.t
        .http()
        .get(adminKeys(inst.ref, `/${keyId}`))
        .set(s.t.admin)
        .expect(200)
    ).body.data;
  const leakedEventsOf = async (keyId: string) =>
    Number(
      (
        await s.t.dataSource.query(
          `SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action IN ('key.leaked', 'mica.key.leaked')`,
          [keyId],
        )
      )[0].n,
    );

  describe('GitHub partner format', () => {
    it('revokes a reported instance key at once, records key.leaked with the url and source, and answers the bare label array', async () => {
      const inst = await createInstance(s.t);
      await verify(inst.key).expect(200);
      const url = 'https://github.com/octocat/leaky/blob/0123abc/config/.env';
      const res = await githubReport(s.t, github, [{ token: inst.key, type: 'trusset_instance', url, source: 'commit' }]).expect(200);
      expect(res.body).toEqual([{ token_hash: sha256Hex(inst.key), token_type: 'trusset_instance', label: 'true_positive' }]);
      expect((await verify(inst.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
      expect(await keyState(inst, inst.keyId)).toMatchObject({ status: 'REVOKED', revokedAt: expect.any(String) });
      const leaked = (await events(inst)).filter((e: { action: string }) => e.action === 'key.leaked');
      expect(leaked).toHaveLength(1);
      expect(leaked[0]).toMatchObject({
        actorType: 'system',
        actor: 'secret-scanning:github',
        target: { type: 'key', id: inst.keyId },
        details: { url, source: 'commit', type: 'trusset_instance', reporter: 'github', contained: 'revoked', from: 'ACTIVE' },
      });
    });

    it('revokes a reported MiCA key at once and records mica.key.leaked on the account', async () => {
      const dev = await registerMicaDeveloper(s.t);
      await micaHealth(dev.apiKey).expect(200);
      const res = await githubReport(s.t, github, [{ token: dev.apiKey, type: 'trusset_mica' }]).expect(200);
      expect(res.body).toEqual([{ token_hash: sha256Hex(dev.apiKey), token_type: 'trusset_mica', label: 'true_positive' }]);
      expect((await micaHealth(dev.apiKey).expect(401)).body.error.code).toBe('INVALID_KEY');
      const own = (await s.t.http().get('/api/mica/developer/events').set('Authorization', `Bearer ${dev.token}`).expect(200)).body.data;
      expect(own.filter((e: { action: string }) => e.action === 'mica.key.leaked')).toEqual([
        expect.objectContaining({
          target: { type: 'mica_key', id: dev.keyId },
          details: expect.objectContaining({ url: expect.stringContaining('github.com'), contained: 'revoked' }),
        }),
      ]);
    });

    it('labels every token in the order given and changes nothing for tokens that are not keys of this service', async () => {
      const inst = await createInstance(s.t);
      const dev = await registerMicaDeveloper(s.t);
      const strangers = [unknownInstanceKey(), 'ghp_notours0123456789', unknownMicaKey(), dev.token];
      const tokens = [inst.key, strangers[0], strangers[1], dev.apiKey, strangers[2], strangers[3]];
      const res = await githubReport(
        s.t,
        github,
        tokens.map((token) => ({ token })),
      ).expect(200);
      expect(res.body.map((l: { token_hash: string; label: string }) => [l.token_hash, l.label])).toEqual([
        [sha256Hex(inst.key), 'true_positive'],
        [sha256Hex(strangers[0]), 'false_positive'],
        [sha256Hex(strangers[1]), 'false_positive'],
        [sha256Hex(dev.apiKey), 'true_positive'],
        [sha256Hex(strangers[2]), 'false_positive'],
        [sha256Hex(strangers[3]), 'false_positive'],
      ]);
      for (const label of res.body) expect(Object.keys(label).sort()).toEqual(['label', 'token_hash', 'token_type']);
      // The management token is not a registered format: the account keeps working with it.
      await s.t.http().get('/api/mica/developer/keys').set('Authorization', `Bearer ${dev.token}`).expect(200);
    });

    it('answers true_positive again for a contained key, and a second report changes nothing and adds no event', async () => {
      const inst = await createInstance(s.t);
      await githubReport(s.t, github, [{ token: inst.key }]).expect(200);
      const before = await keyState(inst, inst.keyId);
      const again = await githubReport(s.t, github, [{ token: inst.key }, { token: inst.key }]).expect(200);
      expect(again.body.map((l: { label: string }) => l.label)).toEqual(['true_positive', 'true_positive']);
      expect(await keyState(inst, inst.keyId)).toEqual(before);
      expect(await leakedEventsOf(inst.keyId)).toBe(1);
    });

    it('labels a key its owner revoked earlier true_positive without a leak event', async () => {
      const inst = await createInstance(s.t);
      await s.t
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
        .set(s.t.admin)
        .expect(200);
      const res = await githubReport(s.t, github, [{ token: inst.key }]).expect(200);
      expect(res.body[0].label).toBe('true_positive');
      expect(await leakedEventsOf(inst.keyId)).toBe(0);
    });

    it('contains a key reported by 10 concurrent reports exactly once, in 10 trials', async () => {
      for (let trial = 0; trial < 10; trial++) {
        const inst = await createInstance(s.t);
        const answers = await Promise.all(Array.from({ length: 10 }, () => githubReport(s.t, github, [{ token: inst.key }])));
        expect(answers.map((a) => [a.status, a.body[0]?.label])).toEqual(Array.from({ length: 10 }, () => [200, 'true_positive']));
        expect(await leakedEventsOf(inst.keyId)).toBe(1);
      }
    });
  });

  describe('a report that cannot be trusted changes nothing', () => {
    let inst: TestInstance;
    beforeAll(async () => {
      inst = await createInstance(s.t);
    });
    afterEach(async () => {
      await verify(inst.key).expect(200);
      expect(await leakedEventsOf(inst.keyId)).toBe(0);
    });

    const send = (body: string, headers: Record<string, string>) =>
      s.t.http().post('/api/secret-scanning/github').set('Content-Type', 'application/json').set(headers).send(body);
    const body = () => JSON.stringify([{ token: inst.key, type: 'trusset_instance', url: 'https://github.com/x/y', source: 'content' }]);

    it('refuses a report without a signature with 401 INVALID_SIGNATURE', async () => {
      const res = await send(body(), { 'Github-Public-Key-Identifier': github.identifier }).expect(401);
      expect(res.body).toMatchObject({ success: false, error: { code: 'INVALID_SIGNATURE' } });
      await send(body(), {}).expect(401);
    });

    it('refuses a signature made by another key under the known identifier', async () => {
      const forger = newSigningKey(github.identifier);
      await githubReport(s.t, forger, [{ token: inst.key }]).expect(401);
    });

    it('refuses a body changed after signing', async () => {
      await githubReport(s.t, github, [{ token: unknownInstanceKey() }], (signed) =>
        signed.replace(/"token":"[^"]+"/, `"token":"${inst.key}"`),
      ).expect(401);
      // Even a change that leaves the JSON equal once parsed: the signature covers the bytes.
      await githubReport(s.t, github, [{ token: inst.key }], (signed) => ` ${signed}`).expect(401);
    });

    it('refuses a signature that is not base64 DER, and one over another body', async () => {
      await send(body(), { 'Github-Public-Key-Identifier': github.identifier, 'Github-Public-Key-Signature': 'not a signature' }).expect(
        401,
      );
      await send(body(), {
        'Github-Public-Key-Identifier': github.identifier,
        'Github-Public-Key-Signature': signBody(github, '[]'),
      }).expect(401);
    });

    it('refuses an identifier the keys endpoint does not serve, after asking the endpoint once more', async () => {
      const stranger = newSigningKey();
      const hits = s.endpoint.hits;
      await githubReport(s.t, stranger, [{ token: inst.key }]).expect(401);
      expect(s.endpoint.hits).toBe(hits + 1);
    });
  });

  it('picks up a key the endpoint starts serving (an unknown identifier refetches the keys)', async () => {
    const next = newSigningKey();
    s.endpoint.keys = [next, github];
    try {
      const inst = await createInstance(s.t);
      await githubReport(s.t, next, [{ token: inst.key }]).expect(200);
      await verify(inst.key).expect(401);
    } finally {
      s.endpoint.keys = [github];
    }
  });

  it('takes a report larger than the ordinary body limit, and refuses one over 1 MB with 413', async () => {
    const big = [{ token: unknownInstanceKey(), url: `https://github.com/x/${'y'.repeat(4000)}` }];
    const many = Array.from({ length: 100 }, () => big[0]);
    await githubReport(s.t, github, many).expect(200);
    const huge = JSON.stringify([{ token: 'x', url: 'u'.repeat(1024 * 1024) }]);
    const res = await s.t
      .http()
      .post('/api/secret-scanning/github')
      .set('Content-Type', 'application/json')
      .set('Github-Public-Key-Identifier', github.identifier)
      .set('Github-Public-Key-Signature', signBody(github, huge))
      .send(huge)
      .expect(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a signed body that is not an array of tokens with 400, naming no value', async () => {
    const inst = await createInstance(s.t);
    const sendSigned = (body: string) =>
      s.t
        .http()
        .post('/api/secret-scanning/github')
        .set('Content-Type', 'application/json')
        .set('Github-Public-Key-Identifier', github.identifier)
        .set('Github-Public-Key-Signature', signBody(github, body))
        .send(body);
    const notArray = await sendSigned(JSON.stringify({ token: inst.key })).expect(400);
    expect(notArray.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { body: [expect.any(String)] } });
    expect(JSON.stringify(notArray.body)).not.toContain(inst.key);
    const bad = await sendSigned(JSON.stringify([{ token: 42 }])).expect(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { '[0].token': [expect.any(String)] } });
    await verify(inst.key).expect(200);
  });

  describe("the operator's own scanner (SECRET_SCANNING_TOKEN)", () => {
    const scanner = (body: unknown, token: string | null = SCANNER_TOKEN) => {
      const req = s.t.http().post('/api/secret-scanning/revoke');
      if (token !== null) req.set('Authorization', `Bearer ${token}`);
      return req.send(body as object);
    };

    it('contains a reported key with the same answer, recording the location', async () => {
      const inst = await createInstance(s.t);
      const location = 'https://gitlab.example.com/team/app/-/blob/main/.env';
      const res = await scanner([{ token: inst.key, type: 'gitlab_trusset', location }, { token: 'nope' }]).expect(200);
      expect(res.body).toEqual([
        { token_hash: sha256Hex(inst.key), token_type: 'gitlab_trusset', label: 'true_positive' },
        { token_hash: sha256Hex('nope'), token_type: null, label: 'false_positive' },
      ]);
      await verify(inst.key).expect(401);
      const leaked = (await events(inst)).find((e: { action: string }) => e.action === 'key.leaked');
      expect(leaked).toMatchObject({ actor: 'secret-scanning:operator', details: { url: location, reporter: 'operator' } });
    });

    it('refuses no token with UNAUTHORIZED and a wrong one with INVALID_TOKEN, changing nothing', async () => {
      const inst = await createInstance(s.t);
      expect((await scanner([{ token: inst.key }], null).expect(401)).body.error.code).toBe('UNAUTHORIZED');
      expect((await scanner([{ token: inst.key }], `${SCANNER_TOKEN}x`).expect(401)).body.error.code).toBe('INVALID_TOKEN');
      expect((await scanner([{ token: inst.key }], s.t.admin.Authorization.slice(7)).expect(401)).body.error.code).toBe('INVALID_TOKEN');
      await verify(inst.key).expect(200);
    });

    it('refuses an unknown field with 400 and changes nothing', async () => {
      const inst = await createInstance(s.t);
      const res = await scanner([{ token: inst.key, url: 'https://x' }]).expect(400);
      expect(res.body.error.details).toEqual({ '[0].url': ['is not allowed'] });
      await verify(inst.key).expect(200);
    });
  });
});

describe('secret-scanning receivers whose keys cannot be read', () => {
  const github = newSigningKey();
  const s = withGithubKeys(github);

  it('refuses every report while the keys endpoint answers 500, then trusts it again once it is back', async () => {
    const inst = await createInstance(s.t);
    s.endpoint.failing = true;
    await githubReport(s.t, github, [{ token: inst.key }]).expect(401);
    await s.t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
    s.endpoint.failing = false;
    await githubReport(s.t, github, [{ token: inst.key }]).expect(200);
    await s.t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(401);
  });

  it('refuses every report when nothing listens at the keys URL', async () => {
    const down = await startTestApp({ ...LIMITS_OUT_OF_REACH, SECRET_SCANNING_GITHUB_KEYS_URL: 'http://127.0.0.1:9/keys' });
    try {
      const inst = await createInstance(down);
      const res = await githubReport(down, github, [{ token: inst.key }]).expect(401);
      expect(res.body.error.code).toBe('INVALID_SIGNATURE');
      await down.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
      // Without SECRET_SCANNING_TOKEN the operator door admits nobody.
      await down
        .http()
        .post('/api/secret-scanning/revoke')
        .set('Authorization', 'Bearer anything-at-all-0123456789abcdefghijkl')
        .send([{ token: inst.key }])
        .expect(401);
    } finally {
      await down.close();
    }
  });
});

describe('LEAKED_KEY_ACTION=pause', () => {
  const github = newSigningKey();
  const s = withGithubKeys(github, { LEAKED_KEY_ACTION: 'pause' });

  it('pauses a leaked key with no end, refuses it, changes nothing on a second report, and lets its owner resume it', async () => {
    const inst = await createInstance(s.t);
    await githubReport(s.t, github, [{ token: inst.key }]).expect(200);
    const paused = (
      await s.t
        .http()
        .get(adminKeys(inst.ref, `/${inst.keyId}`))
        .set(s.t.admin)
        .expect(200)
    ).body.data;
    expect(paused).toMatchObject({ status: 'PAUSED', pausedUntil: null, revokedAt: null });
    await s.t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(401);
    await githubReport(s.t, github, [{ token: inst.key }]).expect(200);
    const [{ n }] = await s.t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = 'key.leaked'`,
      [inst.keyId],
    );
    expect(n).toBe(1);
    await s.t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/resume`))
      .set(s.t.admin)
      .expect(200);
    await s.t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
  });

  it('revokes a leaked key that is in its rotation overlap (its successor already exists)', async () => {
    const inst = await createInstance(s.t);
    await s.t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
      .set(s.t.admin)
      .send({})
      .expect(201);
    await githubReport(s.t, github, [{ token: inst.key }]).expect(200);
    const old = (
      await s.t
        .http()
        .get(adminKeys(inst.ref, `/${inst.keyId}`))
        .set(s.t.admin)
        .expect(200)
    ).body.data;
    expect(old.status).toBe('REVOKED');
  });
});

describe('1,000 tokens in one report answer in under 2 s', () => {
  const github = newSigningKey();
  // Timed as deployed: LOG_QUERIES is off by default (every other suite logs all SQL, whose
  // serialisation of 1,000-value parameters is test overhead, not the service's cost).
  const s = withGithubKeys(github, { LOG_QUERIES: 'false' });
  beforeAll(async () => {
    await githubReport(s.t, github, [{ token: 'warm-up' }]).expect(200);
  });

  it('answers 1,000 tokens, every one a key of this service, in under 2 s and revokes them all', async () => {
    const inst = await createInstance(s.t);
    const tokens = [inst.key];
    const rows: unknown[][] = [];
    for (let i = 1; i < 1000; i++) {
      const m = generateInstanceKey(inst.ref);
      tokens.push(m.plaintext);
      rows.push([inst.id, `bulk ${i}`, m.digest, m.prefix, m.hint]);
    }
    // Past the per-instance cap on purpose: the receiver's cost, not the cap, is under test.
    await s.t.editRows(
      `INSERT INTO instance_keys (instance_id, name, key_digest, key_prefix, key_hint)
       SELECT $1, n, d, p, h FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[]) AS x(n, d, p, h)`,
      [inst.id, rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), rows.map((r) => r[4])],
    );
    const reports = tokens.map((token, i) => ({ token, url: `https://github.com/octocat/leaky/blob/abc/file-${i}.txt` }));
    const started = performance.now();
    const res = await githubReport(s.t, github, reports).expect(200);
    const elapsed = performance.now() - started;
    expect(res.body).toHaveLength(1000);
    expect(res.body.map((l: { token_hash: string }) => l.token_hash)).toEqual(tokens.map(sha256Hex));
    expect(res.body.every((l: { label: string }) => l.label === 'true_positive')).toBe(true);
    expect(elapsed).toBeLessThan(2000);
    const [{ open, leaked }] = await s.t.dataSource.query(
      `SELECT count(*) FILTER (WHERE status <> 'REVOKED')::int AS open, count(*) FILTER (WHERE leaked_at IS NOT NULL)::int AS leaked FROM instance_keys WHERE instance_id = $1`,
      [inst.id],
    );
    expect([open, leaked]).toEqual([0, 1000]);
    const [{ n }] = await s.t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE instance_id = $1 AND action = 'key.leaked'`,
      [inst.id],
    );
    expect(n).toBe(1000);
  });

  it('answers 1,000 tokens that are not ours in under 2 s, all false_positive', async () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => (i % 2 ? unknownInstanceKey() : `sk_live_${randomBytes(20).toString('hex')}`));
    const started = performance.now();
    const res = await githubReport(
      s.t,
      github,
      tokens.map((token) => ({ token })),
    ).expect(200);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(res.body.map((l: { label: string }) => l.label)).toEqual(tokens.map(() => 'false_positive'));
  });
});
