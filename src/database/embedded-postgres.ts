import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const LOCK_FILE = 'trusset.lock';
/** The file name libpq and `pg` look for in a socket folder given as `host`, for port 5432. */
const SOCKET_PORT = 5432;
const SOCKET_FILE = `.s.PGSQL.${SOCKET_PORT}`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Folders 0700 and files 0600 under `dir`, for a data folder written before this rule (PGlite writes
 * 0666 less the umask). Symbolic links are left alone: chmod would follow them out of the folder.
 */
export function restrictTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictTree(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}

/**
 * The embedded default: a real PostgreSQL (PGlite) in this process, served to the ordinary `pg`
 * driver over a Unix socket in a private (0700) folder, never a TCP port: PGlite has no password and
 * runs as a superuser, so whoever reaches the socket owns the data. Only this user can enter the
 * folder; the socket itself is 0600. The data folder is 0700 and its files 0600 (the umask is set
 * for this process while the embedded database runs, and an older folder is fixed at start).
 * PGlite is single-process and its socket server takes one connection at a time, hence the pool of
 * one and the data-folder lock.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    /** The socket folder: `pg` connects to `<host>/.s.PGSQL.<port>` when `host` is a path. */
    readonly host: string,
    readonly port: number,
    private readonly lockPath?: string,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const inMemory = dataDir.startsWith('memory://');
    let lockPath: string | undefined;
    let dir = dataDir;
    if (!inMemory) {
      // Everything PGlite creates from now on is private to this user.
      process.umask(0o077);
      dir = resolve(dataDir);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      restrictTree(dir);
      lockPath = resolve(dir, LOCK_FILE);
      EmbeddedPostgres.takeLock(lockPath, dir);
    }
    // mkdtemp creates the folder 0700; a short path under tmpdir stays within the 108-byte socket path limit.
    const socketDir = mkdtempSync(join(tmpdir(), 'trusset-pg-'));
    try {
      const db = await PGlite.create({ dataDir: dir, extensions: { pg_trgm } });
      // A new folder is filled from PGlite's bundled template with chmod 0666, past the umask; files
      // PostgreSQL itself creates later (tables, WAL) are 0600 already.
      if (!inMemory) restrictTree(dir);
      const server = new PGLiteSocketServer({ db, path: join(socketDir, SOCKET_FILE), maxConnections: 1 });
      await server.start();
      chmodSync(join(socketDir, SOCKET_FILE), 0o600);
      return new EmbeddedPostgres(db, server, socketDir, SOCKET_PORT, lockPath);
    } catch (e) {
      rmSync(socketDir, { recursive: true, force: true });
      if (lockPath) rmSync(lockPath, { force: true });
      throw e;
    }
  }

  private static takeLock(lockPath: string, dir: string): void {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${holder}. Stop that process first, or set DATABASE_URL to use a PostgreSQL server.`,
      );
    }
    writeFileSync(lockPath, String(process.pid), { mode: 0o600 });
  }

  async stop(): Promise<void> {
    try {
      await this.server.stop();
      await this.db.close();
    } finally {
      rmSync(this.host, { recursive: true, force: true });
      if (this.lockPath) rmSync(this.lockPath, { force: true });
    }
  }
}
