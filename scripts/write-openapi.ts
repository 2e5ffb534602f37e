/**
 * Writes the OpenAPI document exactly as the service serves it at /api/docs-json (built by the same
 * app, on an in-memory embedded database), for the linters and the client generator.
 * Usage: ts-node --transpile-only scripts/write-openapi.ts <out.json>
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import request from 'supertest';
import { createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/app.config';
import { JsonLogger } from '../src/common/logging/json-logger';

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: write-openapi.ts <out.json>');
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: 'memory://', LOG_LEVEL: 'silent' });
  const app = await createApp(config, new JsonLogger('silent'));
  await app.init();
  try {
    const res = await request(app.getHttpServer()).get('/api/docs-json');
    if (res.status !== 200) throw new Error(`/api/docs-json answered ${res.status}`);
    writeFileSync(out, `${JSON.stringify(res.body, null, 2)}\n`);
  } finally {
    await app.close();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
