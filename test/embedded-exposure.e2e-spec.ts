import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance } from './support/instance-fixtures';
import { startTestApp, TestApp } from './support/test-app';

/** Inodes of the TCP sockets this process has in LISTEN state (state 0A in /proc/net/tcp{,6}). */
function listeningTcpInodes(): string[] {
  const mine = new Set(
    readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .map((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1])
      .filter((inode): inode is string => !!inode),
  );
  const listening: string[] = [];
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[3] === '0A' && mine.has(cols[9])) listening.push(`${cols[1]} inode ${cols[9]}`);
    }
  }
  return listening;
}

function modes(dir: string, out: Array<{ path: string; mode: number; dir: boolean }> = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      out.push({ path, mode: statSync(path).mode & 0o777, dir: true });
      modes(path, out);
    } else if (entry.isFile()) out.push({ path, mode: statSync(path).mode & 0o777, dir: false });
  }
  return out;
}

/**
 * Issue #11 item 1: the embedded database (the default without DATABASE_URL) is reachable by this
 * process alone. It runs on both test setups: DATABASE_URL is cleared so the embedded database is used.
 */
describe('#11 item 1: the embedded database is reachable by the service alone', () => {
  let root: string;
  let dataDir: string;
  let t: TestApp;
  const umask = process.umask();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'trusset-exposure-'));
    dataDir = join(root, 'data');
    // A folder left by an older version: world-readable files and folders, as PGlite wrote them.
    process.umask(0);
    mkdirSync(join(dataDir, 'base'), { recursive: true, mode: 0o777 });
    writeFileSync(join(dataDir, 'base', 'old-file'), 'x', { mode: 0o666 });
    chmodSync(dataDir, 0o777);
    process.umask(umask);
    t = await startTestApp({ DATABASE_URL: '', DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await t?.close();
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('opens no TCP listener: the database is served on a Unix socket in a 0700 folder', async () => {
    await createInstance(t);
    expect(listeningTcpInodes()).toEqual([]);
    const options = t.dataSource.options as { host?: string; port?: number };
    expect(options.host).toMatch(/^\//);
    expect(statSync(options.host!).mode & 0o777).toBe(0o700);
    const socket = join(options.host!, `.s.PGSQL.${options.port}`);
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o077).toBe(0);
  });

  it('keeps DATA_DIR 0700 and every data file 0600, older files included', async () => {
    await createInstance(t);
    await t.dataSource.query('CHECKPOINT');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const entries = modes(dataDir);
    expect(entries.length).toBeGreaterThan(50);
    const open = entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`);
    expect(open).toEqual([]);
  });
});
