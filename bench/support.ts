import { ChildProcess, spawn } from 'node:child_process';
import { AddressInfo, createServer } from 'node:net';
import { Client } from 'pg';

/**
 * The database a benchmark runs on: `existingUrl` when given (left as it is), else a fresh database
 * on the server of `serverUrl`, dropped by `drop()`.
 */
export async function freshDatabase(
  serverUrl: string,
  prefix: string,
  existingUrl?: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  if (existingUrl) return { url: existingUrl, name: new URL(existingUrl).pathname.slice(1), drop: () => Promise.resolve() };
  const name = `${prefix}_${Date.now()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Starts the built service (dist/, production mode, warn logs) on a free loopback port against
 * `databaseUrl`, with `env` on top, and resolves once it is ready; rejects if it exits or is not
 * ready within 30 s.
 */
export async function startBuiltService(
  root: string,
  databaseUrl: string,
  adminToken: string,
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      ADMIN_TOKEN: adminToken,
      SECRETS_KEY: `${adminToken}-secrets`,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`service exited with ${proc.exitCode}`);
    if (
      await fetch(`${url}/api/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { proc, url };
    if (i > 300) throw new Error('service not ready within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}
