import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './test-app';

/** A P-256 signing key of a test "GitHub": its identifier and key pair. */
export interface SigningKey {
  identifier: string;
  privateKey: KeyObject;
  publicPem: string;
}

export function newSigningKey(identifier = randomBytes(32).toString('hex')): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { identifier, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Base64 DER ECDSA P-256 SHA-256 over the exact bytes, as GitHub signs. */
export const signBody = (key: SigningKey, body: string | Buffer) => sign('sha256', Buffer.from(body), key.privateKey).toString('base64');

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * A local stand-in for GitHub's keys endpoint (`{"public_keys": [...]}`): the keys it serves can be
 * changed, it can answer 500, and it counts requests.
 */
export class KeysEndpoint {
  keys: SigningKey[] = [];
  failing = false;
  hits = 0;
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((_req, res) => {
      this.hits++;
      if (this.failing) {
        res.writeHead(500).end('down');
        return;
      }
      const body = JSON.stringify({
        public_keys: this.keys.map((k, i) => ({ key_identifier: k.identifier, key: k.publicPem, is_current: i === 0 })),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/meta/public_keys/secret_scanning`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** What a suite's `withGithubKeys` set up; read it inside hooks and tests (it is filled by beforeAll). */
export interface GithubKeysSetup {
  endpoint: KeysEndpoint;
  t: TestApp;
}

/**
 * The set-up every secret-scanning suite shares: a keys endpoint serving `github`, and an app
 * (limits out of reach, `env` on top) that trusts it; both stopped after the suite.
 */
export function withGithubKeys(github: SigningKey, env: Record<string, string> = {}): GithubKeysSetup {
  const setup = {} as GithubKeysSetup;
  beforeAll(async () => {
    setup.endpoint = await new KeysEndpoint().start();
    setup.endpoint.keys = [github];
    setup.t = await startTestApp({ ...LIMITS_OUT_OF_REACH, SECRET_SCANNING_GITHUB_KEYS_URL: setup.endpoint.url, ...env });
  });
  afterAll(async () => {
    await setup.t?.close();
    await setup.endpoint?.stop();
  });
  return setup;
}

/** A GitHub partner report of `tokens`, signed by `key` (or sent as `body` when given, to tamper with it). */
export function githubReport(
  t: TestApp,
  key: SigningKey,
  tokens: Array<{ token: string; type?: string; url?: string; source?: string }>,
  tamper?: (body: string) => string,
) {
  const body = JSON.stringify(
    tokens.map((x) => ({ type: 'trusset_instance', url: 'https://github.com/octocat/leaky/blob/abc/.env', source: 'content', ...x })),
  );
  const signature = signBody(key, body);
  return t
    .http()
    .post('/api/secret-scanning/github')
    .set('Content-Type', 'application/json')
    .set('Github-Public-Key-Identifier', key.identifier)
    .set('Github-Public-Key-Signature', signature)
    .send(tamper ? tamper(body) : body);
}
