import { PAGE_CSP } from '../src/pages/pages.handler';
import { startTestApp, TestApp } from './support/test-app';

const PAGES = ['/mica-register', '/mica-console'];

/** Every src/href of a page's HTML. */
function references(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
}

describe('MiCA developer pages over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it.each(PAGES)('serves %s as HTML with the strict CSP, no referrer and no caching', async (path) => {
    const res = await t.http().get(path).expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(PAGE_CSP).toBe("default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it.each(PAGES)('%s has no inline script, inline style, event-handler attribute or third-party reference', async (path) => {
    const html = (await t.http().get(path).expect(200)).text;
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="\/mica-assets\/[\w.-]+\.js"/);
    expect(html).not.toMatch(/<script\b[^>]*>\s*[^<\s]/);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    for (const ref of references(html)) expect(ref).toMatch(/^(\/|#)/);
  });

  it('serves the assets a page names from memory, typed, under the page CSP, cacheable for good', async () => {
    const html = (await t.http().get('/mica-console').expect(200)).text;
    const assets = references(html).filter((r) => r.startsWith('/mica-assets/'));
    expect(assets.map((a) => a.replace(/\.[0-9a-f]{12}\./, '.'))).toEqual(
      expect.arrayContaining(['/mica-assets/mica.css', '/mica-assets/mica-common.js', '/mica-assets/mica-console.js']),
    );
    for (const asset of assets) {
      const res = await t.http().get(asset).expect(200);
      expect(res.headers['content-type']).toMatch(asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers HEAD of a page without a body', async () => {
    const res = await t.http().head('/mica-register').expect(200);
    expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(res.text ?? '').toBe('');
  });

  it('leaves every other path to the API: an unknown asset or a POST to a page is the 404 envelope', async () => {
    for (const res of [
      await t.http().get('/mica-assets/mica.000000000000.css'),
      await t.http().post('/mica-register'),
      await t.http().get('/mica-register/extra'),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('keeps the API on its own deny-all CSP', async () => {
    const res = await t.http().get('/api/health/live').expect(200);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('ships page scripts that never touch browser storage, cookies or the URL', async () => {
    const html = (await t.http().get('/mica-console').expect(200)).text + (await t.http().get('/mica-register').expect(200)).text;
    for (const asset of new Set(references(html).filter((r) => r.endsWith('.js')))) {
      const source = (await t.http().get(asset).expect(200)).text;
      expect(source).not.toMatch(
        /localStorage|sessionStorage|indexedDB|document\.cookie|history\.(push|replace)State|location\.(hash|search|href)\s*=/,
      );
    }
  });
});
