import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const LOCK_FILE = 'trusset.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded default: a real PostgreSQL (PGlite) in this process, served on a loopback port so
 * the ordinary `pg` driver and the same SQL work unchanged. PGlite is single-process and its socket
 * server takes one connection at a time, hence the pool of one and the data-folder lock.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly host: string,
    readonly port: number,
    private readonly lockPath?: string,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const inMemory = dataDir.startsWith('memory://');
    let lockPath: string | undefined;
    let dir = dataDir;
    if (!inMemory) {
      dir = resolve(dataDir);
      mkdirSync(dir, { recursive: true });
      lockPath = resolve(dir, LOCK_FILE);
      EmbeddedPostgres.takeLock(lockPath, dir);
    }
    try {
      const db = await PGlite.create({ dataDir: dir, extensions: { pg_trgm } });
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
      await server.start();
      const [host, port] = server.getServerConn().split(':');
      return new EmbeddedPostgres(db, server, host, Number(port), lockPath);
    } catch (e) {
      if (lockPath) rmSync(lockPath, { force: true });
      throw e;
    }
  }

  private static takeLock(lockPath: string, dir: string): void {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
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
    writeFileSync(lockPath, String(process.pid));
  }

  async stop(): Promise<void> {
    try {
      await this.server.stop();
      await this.db.close();
    } finally {
      if (this.lockPath) rmSync(this.lockPath, { force: true });
    }
  }
}
