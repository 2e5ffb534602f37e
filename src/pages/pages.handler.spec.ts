import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPages, PAGES_DIR } from './pages.handler';

function pagesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mica-pages-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('loadPages', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('names each asset by its content hash, so a changed file gets a new address', () => {
    const page = '<link href="{{asset:site.css}}">';
    const a = pagesDir({ 'mica-register.html': page, 'mica-console.html': page, 'site.css': 'a{}' });
    const b = pagesDir({ 'mica-register.html': page, 'mica-console.html': page, 'site.css': 'b{}' });
    dirs.push(a, b);
    const urlOf = (dir: string) => [...loadPages(dir).keys()].find((k) => k.startsWith('/mica-assets/'));
    expect(urlOf(a)).toMatch(/^\/mica-assets\/site\.[0-9a-f]{12}\.css$/);
    expect(urlOf(b)).not.toBe(urlOf(a));
    expect(loadPages(a).get('/mica-register')?.body.toString()).toBe(`<link href="${urlOf(a)}">`);
  });

  it('refuses to start with a page that names an asset which does not exist', () => {
    const dir = pagesDir({ 'mica-register.html': '<script src="{{asset:gone.js}}"></script>', 'mica-console.html': '' });
    dirs.push(dir);
    expect(() => loadPages(dir)).toThrow('mica-register.html names an asset that does not exist: gone.js');
  });

  it('serves only known file types from the real pages folder, every placeholder resolved', () => {
    const served = loadPages(PAGES_DIR);
    expect([...served.keys()].sort()).toEqual(expect.arrayContaining(['/mica-console', '/mica-register']));
    for (const [path, item] of served) {
      expect(item.type).toMatch(/^text\/(html|css|javascript); charset=utf-8$/);
      if (!path.startsWith('/mica-assets/')) expect(item.body.toString()).not.toContain('{{');
    }
  });
});
