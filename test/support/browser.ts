import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, Browser, BrowserContext, Page } from 'playwright-core';
import type { TestApp } from './test-app';

/**
 * Debian's chromium driven by playwright-core (no browser download): CHROMIUM_PATH, else the usual
 * install paths. Undefined when none is there, so the browser suites skip with a message.
 */
export const CHROMIUM_PATH = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => !!p && existsSync(p),
);

export const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The test app listening on a loopback port, for a real browser to load. */
export async function listenOnLoopback(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** What a page did that it must not: requests to another origin, CSP violations, script errors. */
export interface PageWatch {
  foreignRequests: string[];
  requests: string[];
  errors: string[];
  cspViolations(): Promise<string[]>;
}

export async function watchPage(page: Page, origin: string): Promise<PageWatch> {
  const watch = { foreignRequests: [] as string[], requests: [] as string[], errors: [] as string[] };
  page.on('request', (req) => {
    const url = req.url();
    watch.requests.push(url);
    // blob: is the .env download the page makes from its own memory.
    if (!url.startsWith(origin + '/') && !url.startsWith('blob:' + origin + '/')) watch.foreignRequests.push(url);
  });
  page.on('pageerror', (err) => watch.errors.push(String(err)));
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return {
    ...watch,
    cspViolations: () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp),
  };
}

let axeSource: string | undefined;

/** axe-core's serious and critical violations of the page as it is now (WCAG 2.x A/AA rules and best practices). */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script> tag would be refused).
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
            opts: object,
          ) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.targets.join(', ')}`);
}

/** Every string the browser keeps for the origin beyond the page's memory. */
export async function persistedState(context: BrowserContext, page: Page): Promise<string> {
  const inPage = await page.evaluate(async () => {
    const storage = (s: Storage) => Object.keys(s).map((k) => `${k}=${s.getItem(k)}`);
    const databases = 'databases' in indexedDB ? (await indexedDB.databases()).map((d) => d.name ?? '') : [];
    const caches = 'caches' in window ? await window.caches.keys() : [];
    return {
      local: storage(localStorage),
      session: storage(sessionStorage),
      cookie: document.cookie,
      databases,
      caches,
      url: location.href,
      history: history.length,
    };
  });
  const cookies = await context.cookies();
  return JSON.stringify({ ...inPage, cookies });
}

export class Screenshots {
  private step = 0;
  constructor(private readonly suite: string) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
  }
  async take(page: Page, name: string): Promise<void> {
    this.step += 1;
    await page.screenshot({ path: join(ARTIFACTS_DIR, `${this.suite}-${String(this.step).padStart(2, '0')}-${name}.png`), fullPage: true });
  }
}
