import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, Browser } from 'playwright-core';
import { createInstance, TestInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './support/test-app';

/*
 * CORS (SPEC §19) as a browser enforces it: headless Chromium loads a page from another origin,
 * and that page calls the API with fetch. Only a page of an origin in CORS_ORIGINS may read the
 * answer (and its exposed headers); the same page from another origin is refused by the browser.
 */
const CHROMIUM = '/usr/bin/chromium';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('CORS from a page of another origin (headless Chromium)', () => {
  let t: TestApp;
  let inst: TestInstance;
  let browser: Browser;
  let api: string;
  let allowedPage: string;
  let otherPage: string;
  const pages: Server[] = [];

  beforeAll(async () => {
    // Two page servers: one whose origin is listed, one whose is not. Ports are picked first so the
    // listed origin can be configured.
    const page = () =>
      createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>dashboard</title>'));
    const allowed = page();
    const other = page();
    pages.push(allowed, other);
    const allowedPort = await listen(allowed);
    const otherPort = await listen(other);
    allowedPage = `http://127.0.0.1:${allowedPort}/`;
    otherPage = `http://127.0.0.1:${otherPort}/`;
    t = await startTestApp({ ...LIMITS_OUT_OF_REACH, CORS_ORIGINS: `https://dashboard.example.com, http://127.0.0.1:${allowedPort}` });
    await t.app.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    inst = await createInstance(t, ['trading']);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of pages) await new Promise((r) => s.close(r));
    await t?.close();
  });

  /** Runs fetch inside a page loaded from `pageUrl`; returns what the page could read, or the browser's refusal. */
  async function fetchFrom(pageUrl: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(pageUrl);
      return await page.evaluate(
        async ({ url, init }) => {
          try {
            const res = await fetch(url, init);
            return {
              ok: true as const,
              status: res.status,
              body: await res.json(),
              requestId: res.headers.get('x-request-id'),
              remaining: res.headers.get('x-ratelimit-remaining'),
              wwwAuthenticate: res.headers.get('www-authenticate'),
            };
          } catch (e) {
            return { ok: false as const, error: String(e) };
          }
        },
        { url, init },
      );
    } finally {
      await context.close();
    }
  }

  it('lets a listed origin call the key check and read the exposed headers', async () => {
    const r = await fetchFrom(allowedPage, `${api}/api/auth/verify?service=trading`, { headers: { 'X-API-Key': inst.key } });
    expect(r).toMatchObject({ ok: true, status: 200, body: { success: true, data: { instanceRef: inst.ref } } });
    if (!r.ok) throw new Error(r.error);
    expect(r.requestId).toBe(r.body.metadata.requestId);
    expect(Number(r.remaining)).toBeGreaterThan(0);
  });

  it('lets a listed origin send a preflighted JSON POST with a bearer token', async () => {
    const r = await fetchFrom(allowedPage, `${api}/api/admin/instances`, {
      method: 'POST',
      headers: { Authorization: t.admin.Authorization, 'Content-Type': 'application/json', 'Idempotency-Key': 'browser-1' },
      body: JSON.stringify({ name: 'From the browser', services: ['trading'] }),
    });
    expect(r).toMatchObject({ ok: true, status: 201, body: { success: true } });
  });

  it('lets a listed origin read a 401 and its WWW-Authenticate challenge', async () => {
    const r = await fetchFrom(allowedPage, `${api}/api/keys`, { headers: { 'X-API-Key': 'nope' } });
    expect(r).toMatchObject({ ok: true, status: 401, body: { error: { code: 'AUTH_FAILED' } } });
  });

  it('refuses the same calls from a page of an origin that is not listed', async () => {
    const get = await fetchFrom(otherPage, `${api}/api/auth/verify?service=trading`, { headers: { 'X-API-Key': inst.key } });
    expect(get).toEqual({ ok: false, error: expect.stringContaining('Failed to fetch') });
    const post = await fetchFrom(otherPage, `${api}/api/admin/instances`, {
      method: 'POST',
      headers: { Authorization: t.admin.Authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Must not exist' }),
    });
    expect(post).toEqual({ ok: false, error: expect.stringContaining('Failed to fetch') });
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM instances WHERE name = 'Must not exist'`);
    expect(n).toBe(0);
  });

  it('answers the preflight over HTTP: 204 for a listed origin, 405 with Allow and no CORS header for another', async () => {
    const ok = await t
      .http()
      .options('/api/keys')
      .set('Origin', 'https://dashboard.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'x-api-key, content-type')
      .expect(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://dashboard.example.com');
    expect(ok.headers['access-control-allow-headers']).toContain('X-API-Key');
    const no = await t
      .http()
      .options('/api/keys')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .expect(405);
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
    expect(no.headers.allow).toBe('GET, HEAD, POST');
  });
});
