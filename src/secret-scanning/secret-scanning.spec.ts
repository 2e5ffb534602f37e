import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../config/app.config';
import { parseGithubKeys } from './github-keys';
import { parseLeakReport } from './leak-report.parser';

const pem = (curve: string) =>
  generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe("parseGithubKeys (GitHub's keys document)", () => {
  it('keeps the P-256 keys by identifier and skips entries of any other shape or curve', () => {
    const keys = parseGithubKeys({
      public_keys: [
        { key_identifier: 'good', key: pem('prime256v1'), is_current: true },
        { key_identifier: 'p384', key: pem('secp384r1'), is_current: false },
        { key_identifier: 'broken', key: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' },
        { key_identifier: 7, key: pem('prime256v1') },
        null,
      ],
    });
    expect([...keys.keys()]).toEqual(['good']);
  });

  it.each([null, {}, { public_keys: 'x' }, []])('finds no key in %p', (doc) => {
    expect(parseGithubKeys(doc).size).toBe(0);
  });
});

describe('parseLeakReport', () => {
  it("reads GitHub's fields and ignores fields GitHub may add", () => {
    expect(parseLeakReport([{ token: 't', type: 'x', url: 'u', source: 'content', extra: 1 }], 'github')).toEqual([
      { token: 't', type: 'x', url: 'u', source: 'content' },
    ]);
  });

  it("reads the operator's location as the url and refuses unknown fields there", () => {
    expect(parseLeakReport([{ token: 't', location: 'l' }], 'operator')).toEqual([{ token: 't', type: null, url: 'l', source: null }]);
    expect(() => parseLeakReport([{ token: 't', url: 'u' }], 'operator')).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR', details: { '[0].url': ['is not allowed'] } }),
    );
  });

  it.each([
    ['an object', { token: 't' }, 'body'],
    ['more than 1,000 tokens', Array.from({ length: 1001 }, () => ({ token: 't' })), 'body'],
    ['a non-object entry', ['t'], '[0]'],
    ['an empty token', [{ token: '' }], '[0].token'],
    ['a numeric token', [{ token: 1 }], '[0].token'],
    ['a numeric type', [{ token: 't', type: 1 }], '[0].type'],
  ])('refuses %s, naming the field and never the value', (_, body, field) => {
    try {
      parseLeakReport(body, 'github');
      throw new Error('accepted');
    } catch (e) {
      expect(e).toMatchObject({ code: 'VALIDATION_ERROR' });
      expect(Object.keys((e as { details: object }).details)).toEqual([field]);
      expect(JSON.stringify((e as { details: object }).details)).not.toContain('"t"');
    }
  });
});

describe('secret-scanning configuration', () => {
  const base = { NODE_ENV: 'test' };
  it("defaults to GitHub's keys URL, no scanner token and revocation", () => {
    expect(loadConfig(base).secretScanning).toEqual({
      githubKeysUrl: 'https://api.github.com/meta/public_keys/secret_scanning',
      token: undefined,
      leakedKeyAction: 'revoke',
    });
  });

  it.each([
    ['SECRET_SCANNING_TOKEN', 'short'],
    ['SECRET_SCANNING_TOKEN', 'has spaces in it but is long enough to pass'],
    ['LEAKED_KEY_ACTION', 'delete'],
    ['SECRET_SCANNING_GITHUB_KEYS_URL', 'ftp://example.com/keys'],
    ['SECRET_SCANNING_GITHUB_KEYS_URL', 'not a url'],
  ])('refuses %s=%p, naming the variable', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(name);
  });
});
