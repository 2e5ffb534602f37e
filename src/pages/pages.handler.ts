import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The MiCA developer pages (SPEC §18): two HTML pages and their own assets, read once at start and
 * served from memory. They are static: every secret they show comes from the same public JSON API
 * a program calls, in the browser, and never passes through this handler.
 */
export const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'";
export const ASSET_PREFIX = '/mica-assets/';
export const PAGES_DIR = join(__dirname, 'public');

const PAGES: Record<string, string> = {
  '/mica-register': 'mica-register.html',
  '/mica-console': 'mica-console.html',
};

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Served {
  body: Buffer;
  type: string;
  cacheControl: string;
  route: string;
}

/**
 * Assets get their content hash in the name, so they can be cached for good while a new build is
 * picked up at once; the pages themselves are no-store, which also keeps them out of the
 * back/forward cache, so returning to a page never brings back a token or key held in its memory.
 */
export function loadPages(dir = PAGES_DIR): Map<string, Served> {
  const served = new Map<string, Served>();
  const assetUrls = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const body = readFileSync(join(dir, file));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const url = `${ASSET_PREFIX}${file.replace(/(\.[a-z]+)$/, `.${hash}$1`)}`;
    assetUrls.set(file, url);
    served.set(url, { body, type, cacheControl: 'public, max-age=31536000, immutable', route: `${ASSET_PREFIX}:asset` });
  }
  for (const [path, file] of Object.entries(PAGES)) {
    const html = readFileSync(join(dir, file), 'utf8').replace(/\{\{asset:([\w.-]+)\}\}/g, (_, name: string) => {
      const url = assetUrls.get(name);
      if (!url) throw new Error(`${file} names an asset that does not exist: ${name}`);
      return url;
    });
    served.set(path, { body: Buffer.from(html), type: 'text/html; charset=utf-8', cacheControl: 'no-store', route: path });
  }
  return served;
}

/** GET/HEAD of the pages and their assets; anything else falls through to the API (and its 404). */
export function micaPagesHandler(served = loadPages()): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const item = served.get(req.path);
    if (!item) return next();
    res.locals.route = item.route;
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Type', item.type);
    res.setHeader('Cache-Control', item.cacheControl);
    res.setHeader('Content-Length', item.body.length);
    res.status(200).end(req.method === 'HEAD' ? undefined : item.body);
  };
}
