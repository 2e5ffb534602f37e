/**
 * `npm run bench:adapters`: the same minimal Nest app on Express and on Fastify — a health route and
 * a route behind a guard doing what a cached key check does (parse, SHA-256, map lookup) — to see
 * which adapter meets the key-check targets (a ratio to the health route) with more headroom.
 * Each server runs in its own child process; autocannon drives it from this one.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { CanActivate, Controller, ExecutionContext, Get, Injectable, Module, UnauthorizedException, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import autocannon from 'autocannon';

const KEY = `trusset_Ab12Cd34_${randomBytes(32).toString('hex')}`;
const FORMAT = /^trusset_[A-Za-z0-9]{8}_[0-9a-f]{64}$/;
const known = new Map<string, string>([[createHash('sha256').update(KEY).digest('base64'), 'key-id']]);

@Injectable()
class KeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const key = context.switchToHttp().getRequest().headers['x-api-key'];
    if (typeof key !== 'string' || !FORMAT.test(key)) throw new UnauthorizedException();
    if (!known.has(createHash('sha256').update(key).digest('base64'))) throw new UnauthorizedException();
    return true;
  }
}

@Controller()
class BenchController {
  @Get('live')
  live() {
    return { success: true, data: { status: 'ok' }, metadata: { requestId: 'x', timestamp: new Date().toISOString() } };
  }

  @Get('verify')
  @UseGuards(KeyGuard)
  verify() {
    return { success: true, data: { keyId: 'key-id' }, metadata: { requestId: 'x', timestamp: new Date().toISOString() } };
  }
}

@Module({ controllers: [BenchController], providers: [KeyGuard] })
class BenchModule {}

async function serve(adapter: string, port: number): Promise<void> {
  const app = await NestFactory.create(BenchModule, adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
  await app.listen(port, '127.0.0.1');
  process.send?.('ready');
}

async function measure(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections: 50, duration: Number(process.env.BENCH_SECONDS ?? 8), headers });
  return { rps: r.requests.average, p99: r.latency.p99 };
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const [adapter, port] of [
    ['express', 3201],
    ['fastify', 3202],
  ] as const) {
    const child = fork(__filename, ['serve', adapter, String(port)], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
    await new Promise((r) => child.once('message', r));
    const base = `http://127.0.0.1:${port}`;
    await measure(`${base}/live`);
    const live = await measure(`${base}/live`);
    const verify = await measure(`${base}/verify`, { 'X-API-Key': KEY });
    rows.push(
      `| ${adapter} | ${Math.round(live.rps)} req/s, p99 ${live.p99} ms | ${Math.round(verify.rps)} req/s, p99 ${verify.p99} ms | ${(verify.rps / live.rps).toFixed(2)}× rps, ${((verify.p99 || 1) / (live.p99 || 1)).toFixed(2)}× p99 |`,
    );
    child.kill('SIGTERM');
  }
  process.stdout.write(`| adapter | health route | guarded route | ratio |\n|---|---|---|---|\n${rows.join('\n')}\n`);
}

if (process.argv[2] === 'serve') void serve(process.argv[3], Number(process.argv[4]));
else
  main().catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
