import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { PAGE_CSP } from '../src/pages/pages.handler';
import { UsageTracker } from '../src/usage/usage.tracker';
import {
  CHROMIUM_PATH,
  launchChromium,
  listenOnLoopback,
  PageWatch,
  persistedState,
  Screenshots,
  seriousAxeViolations,
  watchPage,
} from './support/browser';
import { LIMITS_OUT_OF_REACH, ownServerDatabase, startTestApp, TestApp } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';

const MICA_KEY = /^trusset_mica_[0-9a-f]{48}$/;
const TOKEN = /^[0-9a-f]{64}$/;
/** A delivery worker that may post to a receiver on http://127.0.0.1, polling often. */
const WEBHOOK_DELIVERY_ENV: Record<string, string> = {
  WEBHOOK_DELIVERY_ENABLED: 'true',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_POLL_INTERVAL_MS: '50',
};
const uniqueEmail = (tag: string) => `${tag}.${randomUUID()}@example.com`;

if (!CHROMIUM_PATH) {
  process.stderr.write(
    '\nSKIPPED test/mica-pages-browser.e2e-spec.ts: no chromium found (set CHROMIUM_PATH, or apt-get install chromium; .ci/run installs it)\n',
  );
}
const describeInBrowser = CHROMIUM_PATH ? describe : describe.skip;

describeInBrowser('MiCA developer pages in a real browser (chromium)', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  const shots = new Screenshots('mica-pages');

  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
    base = await listenOnLoopback(t);
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function openContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<void> {
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 }, ...options });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    watch = await watchPage(page, base);
  }
  beforeEach(() => openContext());
  afterEach(async () => {
    // Every test: nothing fetched from another origin, nothing the CSP had to block, no script error.
    const violations = await watch.cspViolations().catch(() => [] as string[]);
    await context.close();
    expect(watch.foreignRequests).toEqual([]);
    expect(violations).toEqual([]);
    expect(watch.errors).toEqual([]);
  });

  const health = (key: string) => t.http().get('/api/mica/v1/health').set('X-API-Key', key);
  const keysWith = (token: string) => t.http().get('/api/mica/developer/keys').set('Authorization', `Bearer ${token}`);
  const focusedId = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim() || '');
  const statusSays = (selector: string, text: string | RegExp) => page.locator(selector).filter({ hasText: text }).waitFor();
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  /** A value drawn from a field the answer does not have would read "undefined", "null" or "NaN". */
  const noMissingValues = async () => expect(await page.locator('#console').innerText()).not.toMatch(/\b(?:undefined|null|NaN)\b/);

  async function registerByApi(tag: string): Promise<{ apiKey: string; managementToken: string; email: string }> {
    const email = uniqueEmail(tag);
    const res = await t.http().post('/api/mica/developer/register').send({ name: 'Console Tester', email }).expect(201);
    return { apiKey: res.body.data.apiKey, managementToken: res.body.data.managementToken, email };
  }

  async function openConsole(token: string): Promise<void> {
    await page.goto(`${base}/mica-console`);
    await page.getByRole('textbox', { name: 'Management token' }).fill(token);
    await page.getByRole('button', { name: 'Open console' }).click();
    await page.locator('#console').waitFor();
    await page.locator('#keys .key-card').first().waitFor();
  }

  /** The newest once-shown secret panel's value, after its heading took the focus. */
  async function shownSecret(title: RegExp): Promise<string> {
    const panel = page.locator('#secrets .secret-panel').first();
    await panel.getByRole('heading', { name: title }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest('.secret-panel') !== null)).toBe(true);
    return (await panel.locator('.secret-value').textContent()) ?? '';
  }

  async function confirmDialog(button: string): Promise<void> {
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: button }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  it('signs up by keyboard alone, shows the key and token once with copy and .env download, and the key works against /api/mica/v1/health', async () => {
    const response = await page.goto(`${base}/mica-register`);
    expect(response?.headers()['content-security-policy']).toBe(PAGE_CSP);
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');
    await shots.take(page, 'register-form');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Keyboard only: the skip link comes first, then the header links, then the form in reading order.
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('Skip to content');
    for (let i = 0; i < 6 && (await focusedId()) !== 'name'; i++) await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('name');
    await page.keyboard.type('Ada Lovelace');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('email');
    const email = uniqueEmail('browser');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('signup-submit');
    await page.keyboard.press('Enter');

    await page.locator('#result').waitFor();
    expect(await focusedId()).toBe('result-heading');
    const apiKey = (await page.locator('#api-key').textContent()) ?? '';
    const token = (await page.locator('#management-token').textContent()) ?? '';
    expect(apiKey).toMatch(MICA_KEY);
    expect(token).toMatch(TOKEN);
    await page.getByText('neither can be shown again').waitFor();
    expect(await page.locator('#curl-command').textContent()).toBe(`curl -H 'X-API-Key: ${apiKey}' ${base}/api/mica/v1/health`);
    await shots.take(page, 'register-success');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Copy by keyboard: the first stop after the heading is the key's copy button.
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('Copy API key');
    await page.keyboard.press('Enter');
    await statusSays('#result-status', 'API key copied to the clipboard.');
    expect(await clipboard()).toBe(apiKey);
    await page.getByRole('button', { name: 'Copy management token' }).click();
    await statusSays('#result-status', 'management token copied');
    expect(await clipboard()).toBe(token);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as .env' }).click()]);
    expect(download.suggestedFilename()).toBe('trusset-mica.env');
    const env = readFileSync(await download.path(), 'utf8');
    expect(env).toContain(`\nTRUSSET_MICA_API_KEY=${apiKey}\n`);
    expect(env).toContain(`\nTRUSSET_MICA_MANAGEMENT_TOKEN=${token}\n`);
    await statusSays('#result-status', 'Downloaded trusset-mica.env');

    await page.getByRole('button', { name: 'Send it from this page' }).click();
    await statusSays('#try-status', /^It works: the register is /);
    await shots.take(page, 'register-key-works');
    const direct = await health(apiKey).expect(200);
    expect(direct.body.data).toEqual(expect.objectContaining({ status: expect.any(String), apiVersion: expect.any(String) }));
    expect((await keysWith(token).expect(200)).body.data.developer.email).toBe(email);

    expect(await persistedState(context, page)).not.toMatch(new RegExp(`${apiKey}|${token}`));
  });

  it('shows the API envelope errors next to their field: VALIDATION_ERROR details and EMAIL_EXISTS', async () => {
    const idempotencyKeys: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/mica/developer/register')) idempotencyKeys.push(r.headers()['idempotency-key'] ?? '');
    });
    await page.goto(`${base}/mica-register`);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#name-error').filter({ hasText: 'Enter your name' }).waitFor();
    expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await focusedId()).toBe('name');

    // The browser takes ada@localhost as an email; the API does not, and says so in error.details.email.
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@localhost');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page
      .locator('#email-error')
      .filter({ hasText: /^Email must be an email/ })
      .waitFor();
    expect(await page.locator('#name-error').isHidden()).toBe(true);
    expect(await focusedId()).toBe('email');

    const { email } = await registerByApi('taken');
    await page.getByLabel('Email').fill(email.toUpperCase());
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#email-error').filter({ hasText: 'An account with this email already exists.' }).waitFor();
    await statusSays('#signup-status', 'An account with this email already exists.');
    await shots.take(page, 'register-email-exists');
    // Each sign-up attempt with a new body carries a fresh Idempotency-Key (SPEC §13).
    expect(idempotencyKeys).toHaveLength(2);
    for (const key of idempotencyKeys) expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(idempotencyKeys[0]).not.toBe(idempotencyKeys[1]);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('refuses a wrong management token with the API message next to the field, and an API key pasted by mistake before any request', async () => {
    await page.goto(`${base}/mica-console`);
    await shots.take(page, 'console-locked');
    expect(await seriousAxeViolations(page)).toEqual([]);
    const { apiKey } = await registerByApi('wrongtoken');
    const before = watch.requests.length;
    await page.getByRole('textbox', { name: 'Management token' }).fill(apiKey);
    await page.getByRole('button', { name: 'Open console' }).click();
    await page.locator('#token-error').filter({ hasText: 'That is an API key.' }).waitFor();
    expect(watch.requests.slice(before).filter((u) => u.includes('/api/'))).toEqual([]);

    await page.getByRole('textbox', { name: 'Management token' }).fill('0'.repeat(64));
    await page.getByRole('button', { name: 'Open console' }).click();
    await page.locator('#token-error').filter({ hasText: 'The token is invalid.' }).waitFor();
    expect(await focusedId()).toBe('token');
    expect(await page.locator('#console').isHidden()).toBe(true);
  });

  it('opens the console with the token and creates keys up to the limit, each shown once and working', async () => {
    const account = await registerByApi('create');
    await openConsole(account.managementToken);
    expect(await focusedId()).toBe('console-heading');
    expect(await page.locator('#token').inputValue()).toBe('');
    await page.locator('#keys-summary').filter({ hasText: '1 of 3 active keys' }).waitFor();
    const card = page.locator('#keys .key-card').first();
    for (const fact of ['Key', 'Created', 'Last used', 'Requests']) await card.getByText(fact, { exact: true }).waitFor();
    expect(await card.textContent()).toContain(account.apiKey.slice(0, 22) + '…' + account.apiKey.slice(-4));
    await shots.take(page, 'console-open');
    expect(await seriousAxeViolations(page)).toEqual([]);

    await page.getByLabel('Name of a new key').fill('ci server');
    await page.getByRole('button', { name: 'Create key' }).click();
    const second = await shownSecret(/^New key “ci server”$/);
    expect(second).toMatch(MICA_KEY);
    await health(second).expect(200);
    await page.locator('#secrets .secret-panel').first().getByRole('button', { name: 'Copy key' }).click();
    expect(await clipboard()).toBe(second);
    await shots.take(page, 'console-key-created');

    await page.getByRole('button', { name: 'Create key' }).click();
    const third = await shownSecret(/^New key “key”$/);
    await health(third).expect(200);
    await page.locator('#keys-summary').filter({ hasText: '3 of 3 active keys' }).waitFor();
    expect(await page.getByRole('button', { name: 'Create key' }).isDisabled()).toBe(true);
    await page.locator('#create-note').filter({ hasText: 'the most an account may hold' }).waitFor();
    await shots.take(page, 'console-at-key-limit');
    expect(
      (await keysWith(account.managementToken).expect(200)).body.data.keys.filter((k: { isActive: boolean }) => k.isActive),
    ).toHaveLength(3);
  });

  it('rotates a key (new key shown once, the old one refused) and revokes one after a confirmation that Cancel backs out of', async () => {
    const account = await registerByApi('rotate');
    await openConsole(account.managementToken);
    const card = page.locator('#keys .key-card').first();

    await card.getByRole('button', { name: /^Rotate key/ }).click();
    await page.getByRole('dialog').waitFor();
    expect(await focusedId()).toBe('Cancel');
    await shots.take(page, 'console-rotate-confirm');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await confirmDialog('Rotate key');
    const rotated = await shownSecret(/^Replacement for key “key”$/);
    expect(rotated).toMatch(MICA_KEY);
    await health(rotated).expect(200);
    expect((await health(account.apiKey).expect(401)).body.error.code).toBe('INVALID_KEY');
    await page.locator('#keys summary').filter({ hasText: 'Revoked keys (1)' }).waitFor();
    await shots.take(page, 'console-key-rotated');

    const active = page.locator('#keys > .key-card').first();
    await active.getByRole('button', { name: /^Revoke key/ }).click();
    await page.getByRole('dialog').getByText('This cannot be undone.').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await health(rotated).expect(200);

    await active.getByRole('button', { name: /^Revoke key/ }).click();
    await confirmDialog('Revoke key');
    await statusSays('#console-status', 'Key “key” revoked.');
    expect((await health(rotated).expect(401)).body.error.code).toBe('INVALID_KEY');
    await page.locator('#keys-summary').filter({ hasText: '0 of 3 active keys' }).waitFor();
    await page.locator('#keys summary').filter({ hasText: 'Revoked keys (2)' }).waitFor();
    await shots.take(page, 'console-key-revoked');
  });

  it('rotates the management token: the new one is shown once and keeps the console working, the old one is refused', async () => {
    const account = await registerByApi('token');
    await openConsole(account.managementToken);
    await page.getByRole('button', { name: 'Rotate management token' }).click();
    await confirmDialog('Rotate token');
    const fresh = await shownSecret(/^New management token$/);
    expect(fresh).toMatch(TOKEN);
    expect(fresh).not.toBe(account.managementToken);
    expect((await keysWith(account.managementToken).expect(401)).body.error.code).toBe('INVALID_TOKEN');
    await keysWith(fresh).expect(200);
    await shots.take(page, 'console-token-rotated');

    // The page now acts with the new token.
    await page.getByRole('button', { name: 'Create key' }).click();
    expect(await shownSecret(/^New key “key”$/)).toMatch(MICA_KEY);
    expect((await keysWith(fresh).expect(200)).body.data.keys).toHaveLength(2);
  });

  it('forgets everything on reload and on leaving: token, keys and DOM gone, and nothing in storage, cookies or the URL', async () => {
    const account = await registerByApi('forget');
    await openConsole(account.managementToken);
    await page.getByRole('button', { name: 'Create key' }).click();
    const created = await shownSecret(/^New key “key”$/);
    const secrets = new RegExp(`${account.managementToken}|${account.apiKey.slice(13)}|${created.slice(13)}`);
    expect(await persistedState(context, page)).not.toMatch(secrets);

    await page.reload();
    await page.locator('#unlock').waitFor();
    expect(await page.locator('#console').isHidden()).toBe(true);
    expect(await page.getByRole('textbox', { name: 'Management token' }).inputValue()).toBe('');
    expect(await page.content()).not.toMatch(secrets);
    expect(await page.content()).not.toContain(account.apiKey.slice(0, 22));
    expect(await persistedState(context, page)).not.toMatch(secrets);
    await shots.take(page, 'console-after-reload');

    // Leaving and coming back (the page is no-store, so never restored from the back/forward cache).
    await openConsole(account.managementToken);
    await page.goto(`${base}/mica-register`);
    await page.goBack();
    await page.locator('#unlock').waitFor();
    expect(await page.locator('#console').isHidden()).toBe(true);
    expect(await page.content()).not.toMatch(secrets);
    expect(await persistedState(context, page)).not.toMatch(secrets);

    // The "Forget token" button does the same without leaving, asking first while a once-shown secret is on screen.
    await openConsole(account.managementToken);
    await page.getByRole('button', { name: 'Create key' }).click();
    const unsaved = await shownSecret(/^New key “key”$/);
    await page.getByRole('button', { name: 'Forget token' }).click();
    await page.getByRole('dialog').getByText('cannot be shown again').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('#secrets .secret-value').first().textContent()).toBe(unsaved);
    await page.getByRole('button', { name: 'Forget token' }).click();
    await confirmDialog('Forget token');
    await page.locator('#unlock').waitFor();
    expect(await focusedId()).toBe('token');
    expect(await page.content()).not.toMatch(secrets);
    expect(await page.content()).not.toContain(unsaved.slice(13));
  });

  it('drops an answer that arrives after the token was forgotten: a key created meanwhile is never shown', async () => {
    const account = await registerByApi('late');
    await openConsole(account.managementToken);
    // The real server answers; the browser only holds the answer back until the token is forgotten.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/mica/developer/keys', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      await held;
      await route.continue();
    });
    const created = page.waitForResponse((r) => r.url().endsWith('/api/mica/developer/keys') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('button', { name: 'Forget token' }).click();
    release();
    const answer = await created;
    expect(answer.status()).toBe(201);
    const late = (await answer.json()).data.apiKey as string;
    // Let the page's own event loop take the answer in before looking.
    await answer.finished();
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
    expect(await page.content()).not.toContain(late.slice(13));
    expect(await page.locator('#unlock').isVisible()).toBe(true);
    await page.unroute('**/api/mica/developer/keys');
    await openConsole(account.managementToken);
    expect(await page.locator('#secrets .secret-panel').count()).toBe(0);
    expect(await page.content()).not.toContain(late.slice(13));
  });

  it("shows a key's real usage: requests in the summary, a bar for today, the table and today's quota, per key and refreshed", async () => {
    const account = await registerByApi('usage');
    const second = await t
      .http()
      .post('/api/mica/developer/keys')
      .set('Authorization', `Bearer ${account.managementToken}`)
      .send({ name: 'batch job' })
      .expect(201);
    for (let i = 0; i < 3; i++) await health(account.apiKey).expect(200);
    for (let i = 0; i < 2; i++) await health(second.body.data.apiKey).expect(200);
    await t.app.get(UsageTracker).flush();
    const keys = (await keysWith(account.managementToken).expect(200)).body.data.keys as Array<{
      id: string;
      name: string;
      keyHint: string;
    }>;
    const first = keys.find((k) => k.name === 'key')!;
    const today = new Date().toISOString().slice(0, 10);

    await openConsole(account.managementToken);
    const usage = page.locator('#usage');
    await usage
      .locator('#usage-summary')
      .filter({ hasText: new RegExp(`^5 requests and 0 refused from \\d{4}-\\d{2}-\\d{2} to ${today}; busiest day ${today} with 5\\.$`) })
      .waitFor();
    expect(await usage.locator('#usage-facts').textContent()).toBe('Requests, all time5');
    expect(await usage.locator(`svg.chart rect.bar[data-day="${today}"]`).count()).toBe(1);
    expect(await usage.getByRole('img').getAttribute('aria-labelledby')).toBe('usage-summary');
    // Both keys have today's quota: the health calls spent it.
    const quota = usage.locator('#usage-quota');
    await quota.getByRole('row', { name: `key (…${first.keyHint}) 3 999,997 1,000,000` }).waitFor();
    await quota.getByRole('row', { name: /^batch job \(…[0-9a-f]{4}\) 2 999,998 1,000,000$/ }).waitFor();
    expect(await quota.locator('caption').textContent()).toMatch(/^Today's quota \(UTC day\), resets \d{4}-\d{2}-\d{2} 00:00 UTC$/);
    await usage.getByText('Show as a table').click();
    await usage
      .locator('#usage-table')
      .getByRole('row', { name: `${today} 5 0` })
      .waitFor();
    await noMissingValues();
    await shots.take(page, 'console-usage-all-keys');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // One key, picked by keyboard: its own count, bar and quota only.
    await usage.getByLabel('Show').focus();
    await usage.getByLabel('Show').selectOption(first.id);
    await usage
      .locator('#usage-summary')
      .filter({ hasText: new RegExp(`^3 requests and 0 refused .*; busiest day ${today} with 3\\.$`) })
      .waitFor();
    expect(await focusedId()).toBe('usage-key');
    expect(await usage.locator('#usage-facts').textContent()).toBe('Requests, all time3');
    expect(await quota.getByRole('row').count()).toBe(2);
    await quota.getByRole('row', { name: `key (…${first.keyHint}) 3 999,997 1,000,000` }).waitFor();
    await page.locator(`#keys [data-key-id="${first.id}"]`).getByText('3', { exact: true }).waitFor();

    // More traffic, flushed, then "Refresh usage": the page asks the API again and keeps the chosen key.
    await health(account.apiKey).expect(200);
    await t.app.get(UsageTracker).flush();
    await usage.getByRole('button', { name: 'Refresh usage' }).click();
    await usage
      .locator('#usage-summary')
      .filter({ hasText: /^4 requests and 0 refused / })
      .waitFor();
    await statusSays('#console-status', 'Usage refreshed.');
    expect(await focusedId()).toBe('usage-refresh');
    await quota.getByRole('row', { name: `key (…${first.keyHint}) 4 999,996 1,000,000` }).waitFor();
    await noMissingValues();
    await shots.take(page, 'console-usage-one-key');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // A revoked key keeps its history and has no quota.
    await page
      .locator(`#keys [data-key-id="${first.id}"]`)
      .getByRole('button', { name: /^Revoke key/ })
      .click();
    await confirmDialog('Revoke key');
    await usage.getByRole('option', { name: `key (…${first.keyHint}), revoked` }).waitFor({ state: 'attached' });
    await usage
      .locator('#usage-summary')
      .filter({ hasText: /^4 requests / })
      .waitFor();
    await usage.locator('#usage-quota').filter({ hasText: 'A revoked key has no daily quota.' }).waitFor();
  });

  describe('webhooks, delivered to a real receiver', () => {
    // An app of its own with a delivery worker allowed to post to http://127.0.0.1, used by the
    // helpers above while these tests run, on a database of its own: a delivery worker claims every
    // due delivery of its database, and the webhook suites run workers with other target policies.
    let outer: { t: TestApp; base: string };
    let receiver: WebhookReceiver;
    let own: Awaited<ReturnType<typeof ownServerDatabase>>;
    beforeAll(async () => {
      outer = { t, base };
      own = await ownServerDatabase('pageshooks');
      [t, receiver] = await Promise.all([
        startTestApp({ ...LIMITS_OUT_OF_REACH, ...WEBHOOK_DELIVERY_ENV, ...own.env }),
        WebhookReceiver.start(),
      ]);
      base = await listenOnLoopback(t);
    }, 180_000);
    afterAll(async () => {
      await receiver?.close();
      await t?.close();
      await own?.drop();
      ({ t, base } = outer);
    });

    const hooksWith = (token: string) => t.http().get('/api/mica/developer/webhooks').set('Authorization', `Bearer ${token}`);

    it('creates a webhook from the console (its secret shown once), lists it, sends a signed webhook.test, shows the delivery, disables and deletes it', async () => {
      const account = await registerByApi('webhook');
      await openConsole(account.managementToken);
      const section = page.locator('#webhooks');
      await section.getByText('No webhook yet.').waitFor();
      const url = receiver.url(`/hook/${randomUUID()}`);

      // A wrong URL: the API's validation message under the field.
      await section.getByLabel('URL (https)').fill('ftp://example.com/hook');
      await section.getByRole('button', { name: 'Add webhook' }).click();
      await section.locator('#hook-url-error').filter({ hasText: /^Url / }).waitFor();
      expect(await focusedId()).toBe('hook-url');

      await section.getByLabel('URL (https)').fill(url);
      await section.getByLabel(/^Description/).fill('console test');
      await section.getByLabel('mica.key.rotated').check();
      await section.getByLabel('webhook.test').check();
      await section.getByRole('button', { name: 'Add webhook' }).click();
      const secret = await shownSecret(new RegExp(`^Signing secret for ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      await statusSays('#console-status', 'Webhook added.');
      const listed = (await hooksWith(account.managementToken).expect(200)).body.data;
      expect(listed).toEqual([
        expect.objectContaining({ url, description: 'console test', events: ['mica.key.rotated', 'webhook.test'], enabled: true }),
      ]);
      expect(JSON.stringify(listed)).not.toContain(secret);
      const card = section.locator(`[data-webhook-id="${listed[0].id}"]`);
      await card.getByRole('heading', { name: url }).waitFor();
      await card.getByText('mica.key.rotated, webhook.test').waitFor();
      await card.getByText('Enabled', { exact: true }).waitFor();
      await shots.take(page, 'console-webhook-created');
      expect(await seriousAxeViolations(page)).toEqual([]);
      // Once: after "I have saved it" the secret is nowhere on the page.
      await page.locator('#secrets .secret-panel').getByRole('button', { name: 'I have saved it' }).click();
      expect(await page.content()).not.toContain(secret.slice(6));

      // The test event, signed with the secret the console showed.
      await card.getByRole('button', { name: `Send test webhook ${url}` }).click();
      await statusSays('#console-status', /^Test event queued for /);
      const [received] = await receiver.waitFor((r) =>
        r.some((x) => x.json.type === 'webhook.test' && x.json.data.endpointId === listed[0].id),
      );
      const got = receiver.received.find((x) => x.json.type === 'webhook.test' && x.json.data.endpointId === listed[0].id)!;
      expect(received).toBeDefined();
      expect(
        new Webhook(secret).verify(got.body, {
          'webhook-id': String(got.headers['webhook-id']),
          'webhook-timestamp': String(got.headers['webhook-timestamp']),
          'webhook-signature': String(got.headers['webhook-signature']),
        }),
      ).toEqual(expect.objectContaining({ type: 'webhook.test' }));
      expect(await page.locator('#console-status').textContent()).toContain(`(webhook-id ${String(got.headers['webhook-id'])})`);

      // The delivery log, once the worker has recorded the receiver's 204.
      const deliveries = () =>
        t
          .http()
          .get(`/api/mica/developer/webhooks/${listed[0].id}/deliveries`)
          .set('Authorization', `Bearer ${account.managementToken}`)
          .expect(200);
      for (let i = 0; i < 100 && (await deliveries()).body.data[0]?.status !== 'DELIVERED'; i++)
        await new Promise((r) => setTimeout(r, 50));
      await card.getByRole('button', { name: `Deliveries webhook ${url}` }).click();
      await card.getByRole('row', { name: /webhook\.test 1 DELIVERED · HTTP 204$/ }).waitFor();
      expect(await card.getByRole('button', { name: `Deliveries webhook ${url}` }).getAttribute('aria-expanded')).toBe('true');
      await noMissingValues();
      await shots.take(page, 'console-webhook-delivered');
      expect(await seriousAxeViolations(page)).toEqual([]);

      // Disable: the API says so, the card says so, the focus stays on the button, no test can be sent.
      await card.getByRole('button', { name: `Disable webhook ${url}` }).click();
      await statusSays('#console-status', /disabled: nothing is sent to it until it is enabled again\.$/);
      await card.getByText('Disabled', { exact: true }).waitFor();
      await card.getByText('disabled by its owner').waitFor();
      expect(await focusedId()).toBe(`Enable webhook ${url}`);
      expect(await card.getByRole('button', { name: `Send test webhook ${url}` }).isDisabled()).toBe(true);
      expect((await hooksWith(account.managementToken).expect(200)).body.data[0].enabled).toBe(false);
      await noMissingValues();
      await shots.take(page, 'console-webhook-disabled');
      expect(await seriousAxeViolations(page)).toEqual([]);

      // Delete, after a confirmation.
      await card.getByRole('button', { name: `Delete webhook ${url}` }).click();
      await confirmDialog('Delete webhook');
      await statusSays('#console-status', `Webhook ${url} deleted.`);
      await section.getByText('No webhook yet.').waitFor();
      expect(await focusedId()).toBe('webhooks-heading');
      expect((await hooksWith(account.managementToken).expect(200)).body.data).toEqual([]);
      await shots.take(page, 'console-webhook-deleted');
    });
  });

  it('reads well on a phone: both pages at 390 px wide without horizontal scrolling or serious axe findings', async () => {
    await context.close();
    await openContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const noSideways = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await page.goto(`${base}/mica-register`);
    expect(await noSideways()).toBe(true);
    await shots.take(page, 'phone-register-form');
    await page.getByLabel('Name').fill('Phone User');
    await page.getByLabel('Email').fill(uniqueEmail('phone'));
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#result').waitFor();
    const token = (await page.locator('#management-token').textContent()) ?? '';
    expect(await noSideways()).toBe(true);
    await shots.take(page, 'phone-register-success');
    expect(await seriousAxeViolations(page)).toEqual([]);

    await openConsole(token);
    await page.getByRole('button', { name: 'Create key' }).click();
    await shownSecret(/^New key “key”$/);
    expect(await noSideways()).toBe(true);
    await shots.take(page, 'phone-console');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });
});

describeInBrowser('MiCA sign-up page under the registration limit (chromium)', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS_OUT_OF_REACH, RATE_LIMIT_STRICT_PER_MINUTE: '1' });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('says how long to wait when sign-up answers 429 with Retry-After', async () => {
    const base = await listenOnLoopback(t);
    const context = await browser.newContext();
    const page = await context.newPage();
    const watch = await watchPage(page, base);
    // The limit counts in fixed one-minute windows: spend this window's one sign-up, then try from
    // the page; should the two straddle a window boundary (the page's sign-up then succeeds), again.
    let answer: Response | undefined;
    for (let attempt = 0; attempt < 3 && answer?.status() !== 429; attempt++) {
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'First', email: uniqueEmail('limit') });
      await page.goto(`${base}/mica-register`);
      await page.getByLabel('Name').fill('Second Try');
      await page.getByLabel('Email').fill(uniqueEmail('limit'));
      [answer] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/mica/developer/register')),
        page.getByRole('button', { name: 'Create account' }).click(),
      ]);
    }
    if (!answer) throw new Error('no sign-up answer');
    expect(answer.status()).toBe(429);
    const wait = Number(answer.headers()['retry-after']);
    expect(wait).toBeGreaterThan(0);
    const expected = wait < 60 ? `${wait} second` : `${Math.ceil(wait / 60)} minute`;
    await page
      .locator('#signup-status')
      .filter({ hasText: `Too many requests from here. Please wait ${expected}` })
      .waitFor();
    await new Screenshots('mica-pages-limit').take(page, 'register-429');
    expect(await page.locator('#result').isHidden()).toBe(true);
    await context.close();
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.errors).toEqual([]);
  });
});
