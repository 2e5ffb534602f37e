import { Client } from 'pg';

/**
 * The database a benchmark runs on: `existingUrl` when given (left as it is), else a fresh database
 * on the server of `serverUrl`, dropped by `drop()`.
 */
export async function freshDatabase(serverUrl: string, prefix: string, existingUrl?: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  if (existingUrl) return { url: existingUrl, name: new URL(existingUrl).pathname.slice(1), drop: async () => undefined };
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
