/**
 * Starts the real nginx and Caddy from the recipes in deploy/ (placeholders filled in), each with
 * its own config and prefix in a temporary folder, on loopback ports: used by `npm run
 * gateway:check` and `npm run bench`. Nothing here touches a system nginx or Caddy (their config,
 * their pid file, port 80).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

export interface Gateway {
  name: 'nginx' | 'caddy';
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** The binary's path, or undefined when it is not installed. */
export function which(binary: string, candidates: string[]): string | undefined {
  for (const path of candidates) {
    try {
      execFileSync(path, ['-v'], { stdio: 'ignore' });
      return path;
    } catch {
      /* try the next */
    }
  }
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const NGINX = which('nginx', ['/usr/sbin/nginx']);
export const CADDY = which('caddy', ['/usr/bin/caddy']);

/** The recipe with its three placeholders replaced, as SPEC §19 describes. */
export function recipe(path: string, listen: string, keys: string, upstream: string): string {
  return readFileSync(join(ROOT, path), 'utf8')
    .replaceAll('__LISTEN__', listen)
    .replaceAll('__KEYS__', keys)
    .replaceAll('__UPSTREAM__', upstream);
}

/**
 * nginx with `http { include <recipe> }` and nothing else of its own but temp paths, or, with
 * `plainProxy`, the same server block proxying to the upstream without any check (the bench's
 * reference row).
 */
export async function startNginx(
  keys: string,
  upstream: string,
  opts: { plainProxy?: boolean; workers?: number | 'auto' } = {},
): Promise<Gateway> {
  if (!NGINX) throw new Error('nginx is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'trusset-nginx-'));
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const server = opts.plainProxy
    ? `upstream trusset_api { server ${upstream}; keepalive 64; }
       server { listen ${listen};
         location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://trusset_api; } }`
    : recipe('deploy/nginx/gateway.conf.template', listen, keys, upstream);
  writeFileSync(join(dir, 'gateway.conf'), server);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes ${opts.workers ?? 'auto'};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/gateway.conf;
}
`,
  );
  const proc = spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`], { stdio: ['ignore', 'ignore', 'pipe'] });
  return ready('nginx', proc, `http://${listen}`, dir);
}

export async function startCaddy(keys: string, upstream: string, opts: { plainProxy?: boolean } = {}): Promise<Gateway> {
  if (!CADDY) throw new Error('caddy is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'trusset-caddy-'));
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const config = opts.plainProxy
    ? `{\n\tadmin off\n\tauto_https off\n}\nhttp://${listen} {\n\treverse_proxy ${upstream}\n}\n`
    : recipe('deploy/caddy/Caddyfile.template', listen, keys, upstream);
  writeFileSync(join(dir, 'Caddyfile'), config);
  // Caddy's own state (autosave, certificates) goes to the temp folder, not the user's home.
  const proc = spawn(CADDY, ['run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
  });
  return ready('caddy', proc, `http://${listen}`, dir);
}

async function ready(name: Gateway['name'], proc: ChildProcess, url: string, dir: string): Promise<Gateway> {
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(name === 'nginx' ? 'SIGQUIT' : 'SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) {
      const log = name === 'nginx' ? safeRead(join(dir, 'error.log')) : '';
      await stop();
      throw new Error(`${name} exited with ${proc.exitCode}: ${stderr}${log}`);
    }
    // Any HTTP answer means it listens; the path is one no recipe proxies.
    if (
      await fetch(`${url}/__gateway_ready`).then(
        () => true,
        () => false,
      )
    )
      return { name, url, stop };
    if (i > 100) {
      await stop();
      throw new Error(`${name} did not listen within 10 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
