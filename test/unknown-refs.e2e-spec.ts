import { randomBytes } from 'node:crypto';
import { capturedLogLines } from './support/log-capture';
import { createInstance } from './support/instance-fixtures';
import { startTestApp, TestApp, LIMITS_OUT_OF_REACH } from './support/test-app';

/**
 * Keys under an instance ref that does not exist (a scanner's or a guesser's) fail without a key
 * lookup once the ref is known absent (src/key-cache/known-absent-names.ts); keys under a real ref
 * keep their lookup. The test app logs every SQL statement, so the lookups are counted from the log.
 */
describe('keys under an instance ref that does not exist', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
  });
  afterAll(() => t?.close());

  const verify = (key: string) => t.http().get('/api/auth/verify').set('X-API-Key', key);
  const secret = () => randomBytes(32).toString('hex');
  const keyLookups = () => capturedLogLines.filter((l) => l.includes('FROM instance_keys k JOIN instances i')).length;
  const refLookups = () => capturedLogLines.filter((l) => l.includes('SELECT ref AS name FROM instances')).length;
  /** The ref lookup runs after the answer, in the background: wait until the log shows it. */
  const refLookedUp = async (before: number) => {
    for (let i = 0; i < 200 && refLookups() === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(refLookups()).toBeGreaterThan(before);
  };

  it('refuses every later key under a made-up ref with the same 401, without a key lookup', async () => {
    const ref = 'Zz9Yy8Xq';
    const refsBefore = refLookups();
    const first = await verify(`trusset_${ref}_${secret()}`).expect(401);
    await refLookedUp(refsBefore);

    const lookupsBefore = keyLookups();
    for (let i = 0; i < 20; i++) {
      const res = await verify(`trusset_${ref}_${secret()}`).expect(401);
      expect(res.body.error).toEqual(first.body.error);
      expect(res.headers['www-authenticate']).toBe(first.headers['www-authenticate']);
    }
    expect(keyLookups()).toBe(lookupsBefore);
  });

  it('keeps looking up unknown keys under a real ref, whose real key keeps passing', async () => {
    const inst = await createInstance(t, ['trading']);
    const refsBefore = refLookups();
    await verify(`trusset_${inst.ref}_${secret()}`).expect(401);
    await refLookedUp(refsBefore);

    const lookupsBefore = keyLookups();
    for (let i = 0; i < 5; i++) await verify(`trusset_${inst.ref}_${secret()}`).expect(401);
    expect(keyLookups()).toBe(lookupsBefore + 5);
    await verify(inst.key).expect(200);
  });

  it('passes the key of an instance created after keys under other made-up refs were refused', async () => {
    const refsBefore = refLookups();
    await verify(`trusset_Qq1Ww2Ee_${secret()}`).expect(401);
    await refLookedUp(refsBefore);
    const inst = await createInstance(t, ['trading']);
    await verify(inst.key).expect(200);
  });
});
