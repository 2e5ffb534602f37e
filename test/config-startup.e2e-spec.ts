import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The process as an operator starts it: a bad variable stops it with exit 78 (EX_CONFIG) and one
 * line naming the variable, before anything is touched: the embedded database's folder is never
 * created, so no migration can have run.
 */
describe('Configuration errors at start', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'trusset-config-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function start(env: Record<string, string>) {
    const dataDir = join(root, `data-${Object.keys(env).join('-')}-${Math.random().toString(36).slice(2)}`);
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: join(__dirname, '..'),
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { ...result, dataDir };
  }

  it.each([
    ['TRUST_PROXY', 'maybe'],
    ['HOST', 'not a host'],
    ['HOST', 'no-such-host.invalid'],
    ['PORT', '99999'],
    ['DATABASE_POOL_SIZE', 'ten'],
    ['KEY_CACHE_TTL_MS', '-5'],
  ])('exits 78 with one line naming %s=%s, before the database is touched', (name, value) => {
    const run = start({ [name]: value });
    expect(run.status).toBe(78);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Invalid configuration: ${name} must `));
    expect(run.stdout).toBe('');
    expect(existsSync(run.dataDir)).toBe(false);
  });
});
