/**
 * `npm run gateway:check`: starts the built key service (on a fresh PostgreSQL database), a tiny
 * upstream API that records what it receives, and the real nginx and Caddy from the recipes in
 * deploy/, then checks SPEC §19 through each gateway: the client gets the service's status, error
 * code, envelope and Retry-After for 401, 403 and 429 (and 400); the upstream gets the instance
 * headers and never the client's X-API-Key or X-Trusset-* headers; two X-API-Key headers are
 * refused. Exits non-zero on the first gateway that breaks a promise; a gateway that is not
 * installed is reported and skipped (CI installs both).
 */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { CADDY, Gateway, NGINX, startCaddy, startNginx } from './gateways';
import { freshDatabase, startBuiltService } from './support';

const ROOT = resolve(__dirname, '..');
const ADMIN_TOKEN = randomBytes(32).toString('hex');
const SERVER_URL = process.env.BENCH_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RATE_LIMIT = 3;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json?: {
    success?: boolean;
    upstream?: boolean;
    path?: string;
    error?: { code?: string; message?: string };
    metadata?: { requestId?: string };
  };
}

/** One request on its own connection with headers exactly as given (duplicates included). */
function raw(url: string, path: string, headers: Array<[string, string]>): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolvePromise, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const out: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).toLowerCase();
        out[name] = out[name] !== undefined ? `${out[name]}, ${line.slice(i + 1).trim()}` : line.slice(i + 1).trim();
      }
      let body = rest.join('\r\n\r\n');
      if (out['transfer-encoding'] === 'chunked') body = dechunk(body);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      resolvePromise({ status, headers: out, body, json: json as Answer['json'] });
    });
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...headers.map(([n, v]) => `${n}: ${v}`)];
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const i = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, i), 16);
    if (!size) return out;
    out += rest.slice(i + 2, i + 2 + size);
    rest = rest.slice(i + 2 + size + 2);
  }
}

/** The platform API stand-in: answers 200 with a marker and keeps the headers of each request. */
async function startUpstream(): Promise<{ server: Server; address: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const body = JSON.stringify({ upstream: true, path: req.url });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const failures: string[] = [];

function expect(gateway: string, what: string, ok: boolean, detail: unknown = ''): void {
  process.stderr.write(`[gateway:check] ${gateway}: ${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : ` — ${JSON.stringify(detail)}`}\n`);
  if (!ok) failures.push(`${gateway}: ${what}`);
}

async function main(): Promise<void> {
  execSync('npx nest build', { cwd: ROOT, stdio: 'inherit' });
  const database = await freshDatabase(SERVER_URL, 'trusset_gateway_check', process.env.BENCH_DATABASE_URL);
  const upstream = await startUpstream();
  const { proc, url: keysUrl } = await startBuiltService(ROOT, database.url, ADMIN_TOKEN, {
    RATE_LIMIT_PER_KEY_PER_MINUTE: String(RATE_LIMIT),
  });
  const keys = new URL(keysUrl).host;
  const gateways: Gateway[] = [];
  try {
    const admin = async (path: string, body: unknown) => {
      const res = await fetch(keysUrl + path, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { data: { instance: { instanceRef: string }; key: { id: string; key: string } } }).data;
    };
    /** A fresh instance (trading only) and its key, so every check starts with a full per-key allowance. */
    const freshKey = async () => {
      const created = await admin('/api/admin/instances', { name: 'gateway check', services: ['trading'] });
      return { key: created.key.key, ref: created.instance.instanceRef, keyId: created.key.id };
    };

    for (const [name, binary, start] of [
      ['nginx', NGINX, startNginx],
      ['caddy', CADDY, startCaddy],
    ] as const) {
      if (!binary) {
        process.stderr.write(`[gateway:check] ${name} is not installed: skipped (apt-get install -y ${name})\n`);
        continue;
      }
      const gateway = await start(keys, upstream.address);
      gateways.push(gateway);
      await checkGateway(gateway, keysUrl, upstream.seen, freshKey);
      await gateway.stop();
    }
  } finally {
    for (const g of gateways) await g.stop().catch(() => undefined);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    await new Promise((r) => upstream.server.close(r));
    await database.drop().catch(() => undefined);
  }
  if (failures.length > 0) {
    process.stderr.write(`\n[gateway:check] ${failures.length} promise(s) broken:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stderr.write('[gateway:check] every gateway kept every promise\n');
}

async function checkGateway(
  gateway: Gateway,
  keysUrl: string,
  seen: IncomingHttpHeaders[],
  freshKey: () => Promise<{ key: string; ref: string; keyId: string }>,
): Promise<void> {
  const g = gateway.name;
  const path = '/api/trading/v1/orders?limit=5';

  // Passed: the upstream gets the path unchanged and the check's identity, not the client's key.
  const valid = await freshKey();
  seen.length = 0;
  const passed = await raw(gateway.url, path, [['X-API-Key', valid.key]]);
  const got = seen[0] ?? {};
  expect(
    g,
    'a valid key reaches the upstream with the path unchanged',
    passed.status === 200 && passed.json?.upstream === true && passed.json?.path === path,
    passed,
  );
  expect(
    g,
    'the upstream gets X-Trusset-Instance-Ref and X-Trusset-Key-Id',
    got['x-trusset-instance-ref'] === valid.ref && got['x-trusset-key-id'] === valid.keyId,
    got,
  );
  expect(g, "the upstream never gets the client's X-API-Key", got['x-api-key'] === undefined, got);

  // Refused: the same status, code, envelope and headers as the service itself answers.
  const other = await freshKey();
  const cases: Array<[string, string, Array<[string, string]>, number, string]> = [
    ['no key', path, [], 401, 'AUTH_REQUIRED'],
    ['an unknown key', path, [['X-API-Key', `trusset_${valid.ref}_${randomBytes(32).toString('hex')}`]], 401, 'AUTH_FAILED'],
    ['a malformed key', path, [['X-API-Key', 'trusset_short']], 401, 'AUTH_FAILED'],
    ['a service the instance lacks', '/api/lending/v1/loans', [['X-API-Key', other.key]], 403, 'SERVICE_NOT_ENABLED'],
  ];
  for (const [what, p, headers, status, code] of cases) {
    seen.length = 0;
    const service = /^\/api\/([a-z]+)\//.exec(p)![1];
    const direct = await raw(keysUrl, `/api/auth/verify?service=${service}`, headers);
    const through = await raw(gateway.url, p, headers);
    expect(
      g,
      `${what}: ${status} ${code} in the service's envelope`,
      through.status === status &&
        direct.status === status &&
        through.json?.success === false &&
        through.json?.error?.code === code &&
        through.json?.error?.message === direct.json?.error?.message,
      { through: through.status, body: through.body },
    );
    expect(
      g,
      `${what}: X-Request-Id matches the envelope's requestId`,
      !!through.headers['x-request-id'] && through.headers['x-request-id'] === through.json?.metadata?.requestId,
      through.headers,
    );
    expect(g, `${what}: JSON content type`, /^application\/json/.test(through.headers['content-type'] ?? ''), through.headers);
    expect(g, `${what}: the upstream is not reached`, seen.length === 0, seen);
  }

  // 429 with Retry-After, after the key spent its allowance through the gateway.
  const limited = await freshKey();
  for (let i = 0; i < RATE_LIMIT; i++) await raw(gateway.url, path, [['X-API-Key', limited.key]]);
  seen.length = 0;
  const tooMany = await raw(gateway.url, path, [['X-API-Key', limited.key]]);
  expect(g, '429 RATE_LIMIT_EXCEEDED in the envelope', tooMany.status === 429 && tooMany.json?.error?.code === 'RATE_LIMIT_EXCEEDED', {
    status: tooMany.status,
    body: tooMany.body,
  });
  expect(
    g,
    '429 carries Retry-After and X-RateLimit-*',
    Number(tooMany.headers['retry-after']) >= 1 &&
      tooMany.headers['x-ratelimit-limit'] === String(RATE_LIMIT) &&
      tooMany.headers['x-ratelimit-remaining'] === '0',
    tooMany.headers,
  );
  expect(g, '429: the upstream is not reached', seen.length === 0, seen);

  // Two X-API-Key headers, both the valid key: refused, never the first one's pass.
  const twice = await freshKey();
  seen.length = 0;
  const doubled = await raw(gateway.url, path, [
    ['X-API-Key', twice.key],
    ['X-API-Key', twice.key],
  ]);
  expect(
    g,
    'two X-API-Key headers are refused with 401 AUTH_FAILED',
    doubled.status === 401 && doubled.json?.error?.code === 'AUTH_FAILED',
    { status: doubled.status, body: doubled.body },
  );
  expect(g, 'two X-API-Key headers: the upstream is not reached', seen.length === 0, seen);

  // Client-sent X-Trusset-* headers never reach the upstream (nginx refuses them, Caddy strips them).
  const spoof = await freshKey();
  seen.length = 0;
  const spoofed = await raw(gateway.url, path, [
    ['X-API-Key', spoof.key],
    ['X-Trusset-Instance-Ref', 'Evil0000'],
    ['x-trusset-role', 'admin'],
  ]);
  const spoofSeen = seen[0];
  const leaked = spoofSeen && (spoofSeen['x-trusset-role'] !== undefined || spoofSeen['x-trusset-instance-ref'] !== spoof.ref);
  expect(
    g,
    "the client's X-Trusset-* headers never reach the upstream",
    !leaked && (spoofed.status === 200 || (spoofed.status === 400 && spoofed.json?.error?.code === 'VALIDATION_ERROR')),
    {
      status: spoofed.status,
      body: spoofed.body,
      upstream: spoofSeen,
    },
  );

  const unknownPath = await raw(gateway.url, '/api/unknown/x', [['X-API-Key', valid.key]]);
  expect(
    g,
    'a path outside /api/<service>/ is a 404 envelope, not proxied',
    unknownPath.status === 404 && unknownPath.json?.error?.code === 'NOT_FOUND',
    unknownPath,
  );
}

main().catch((e) => {
  process.stderr.write(`gateway:check failed: ${e.stack ?? e}\n`);
  process.exit(1);
});
