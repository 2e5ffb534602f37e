import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp, TEST_ADMIN_TOKEN } from './support/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

/*
 * What a client generator makes of the served document: openapi-typescript turns /api/docs-json
 * into types, test/client/flows.ts (the README's flows through openapi-fetch) must compile against
 * them under strict settings, and then run against the service. A nullable field declared as an
 * object, a missing required field, a body marked required that is not, fail here.
 */
describe('A client generated from the OpenAPI document', () => {
  let t: TestApp;
  let dir: string;
  let baseUrl: string;

  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'trusset-client-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('compiles strictly against the generated types and completes the README flows', async () => {
    const doc = (await t.http().get('/api/docs-json').expect(200)).body;
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    await run(bin('openapi-typescript'), [file, '-o', join(ROOT, 'test/client/generated/api.ts')], { cwd: ROOT });
    // Compiled beside the project so the flows resolve openapi-fetch from its node_modules.
    const out = join(ROOT, 'test/client/generated/out');
    await run(bin('tsc'), ['-p', join(ROOT, 'test/client/tsconfig.json'), '--outDir', out], { cwd: ROOT }).catch(
      (e: Error & { stdout?: string }) => {
        throw new Error(`the generated client does not compile:\n${e.stdout ?? e.message}`);
      },
    );
    const result = await run(process.execPath, [join(out, 'flows.js'), baseUrl, TEST_ADMIN_TOKEN], { cwd: ROOT }).catch(
      (e: Error & { stderr?: string }) => {
        throw new Error(`a flow failed: ${e.stderr ?? e.message}`);
      },
    );
    expect(result.stdout).toBe('flows ok\n');
  }, 600_000);
});
