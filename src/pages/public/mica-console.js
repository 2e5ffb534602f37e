/*
 * The developer console. The management token lives in the `token` variable of this closure and
 * nowhere else (no storage, cookie or URL); every action is one call of the public API with it, and
 * forget() (the button, a refused token, or leaving the page) drops it together with everything shown.
 */
'use strict';
(function () {
  const M = window.Mica;
  const el = M.el;
  const $ = (id) => document.getElementById(id);
  const TOKEN_FORMAT = /^[0-9a-f]{64}$/;
  const MICA_EVENTS = ['mica.key.created', 'mica.key.rotated', 'mica.key.revoked', 'mica.key.leaked', 'mica.management_token.rotated', 'webhook.test'];
  const USAGE_DAYS = 30;

  let token = null;
  // Bumped by forget(): an answer that arrives after it belongs to a session that is over and is dropped.
  let session = 0;
  let state = null; // { developer, keys, limits } from GET /keys
  let usageKey = '';
  let secretCount = 0;

  const status = $('console-status');
  const createRetry = M.retrySafe();

  // ---- unlocking ---------------------------------------------------------------------------

  $('unlock-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = $('unlock-form');
    const input = $('token');
    M.clearFieldErrors(form);
    const pasted = input.value.trim();
    if (!TOKEN_FORMAT.test(pasted)) {
      const message = pasted.startsWith('trusset_mica_')
        ? 'That is an API key. Paste the management token (64 characters, 0–9 and a–f) instead.'
        : pasted ? 'A management token is 64 characters, 0–9 and a–f.' : 'Paste your management token.';
      M.setFieldError(input, $('token-error'), message);
      input.focus();
      M.announce($('unlock-status'), message, 'error');
      return;
    }
    const submit = $('unlock-submit');
    submit.disabled = true;
    M.announce($('unlock-status'), 'Opening your account…', '');
    const answer = await M.api('GET', '/api/mica/developer/keys', { token: pasted });
    submit.disabled = false;
    if (!answer.ok) {
      const message = answer.status === 401 ? answer.error.message + ' Check that you pasted the current management token.' : M.describeError(answer);
      M.setFieldError(input, $('token-error'), message);
      input.focus();
      M.announce($('unlock-status'), message, 'error');
      return;
    }
    token = pasted;
    input.value = '';
    M.announce($('unlock-status'), '', '');
    $('unlock').hidden = true;
    $('console').hidden = false;
    document.title = 'Your account · Trusset MiCA Register API';
    renderKeys(answer.data);
    $('console-heading').focus();
    M.announce(status, 'Account opened.', 'ok');
    void loadUsage();
    void loadWebhooks();
  });

  $('lock').addEventListener('click', async () => {
    if ($('secrets').children.length > 0) {
      const sure = await M.confirmAction('Forget the token?', 'A secret that is shown only once is still on this page. Copy or download it first: after this it cannot be shown again.', 'Forget token');
      if (!sure) return;
    }
    forget();
    M.announce($('unlock-status'), 'The token is forgotten. Paste it again to continue.', 'ok');
    $('token').focus();
  });

  /** Drops the token and every value shown; the page is back to its first state. */
  function forget() {
    session += 1;
    token = null;
    state = null;
    usageData = null;
    usageLoads += 1;
    usageKey = '';
    for (const id of ['account', 'keys', 'secrets', 'usage', 'webhooks', 'keys-summary', 'create-note', 'console-status']) $(id).replaceChildren();
    for (const dialog of document.querySelectorAll('dialog')) dialog.remove();
    $('token').value = '';
    $('new-key-name').value = '';
    $('console').hidden = true;
    $('unlock').hidden = false;
    document.title = 'Console · Trusset MiCA Register API';
  }

  window.addEventListener('pagehide', forget);

  /**
   * The answer of a call; null when there is nothing more to do with it: the console was forgotten
   * meanwhile, or the token was refused (which locks the console). A 401 for a token that has since
   * been rotated by this page is stale and only dropped.
   */
  async function call(method, path, body, retry) {
    if (!token) return null;
    const started = session;
    const used = token;
    const answer = await M.api(method, path, { token, body, idempotencyKey: retry ? retry.keyFor({ path, body }) : undefined });
    if (retry) retry.settle(answer);
    if (session !== started) return null;
    if (answer.ok) return answer;
    if (answer.status === 401 && used !== token) return null;
    if (answer.status === 401) {
      forget();
      const input = $('token');
      M.setFieldError(input, $('token-error'), answer.error.message + ' The token may have been rotated: paste the current one.');
      M.announce($('unlock-status'), answer.error.message, 'error');
      input.focus();
      return null;
    }
    return answer;
  }

  /**
   * Runs an action with its button disabled, so a double click never does it twice. Afterwards the
   * button is enabled again unless what the action rendered blocks it (data-blocked, e.g. at the key limit).
   */
  async function busy(button, work) {
    button.disabled = true;
    try {
      await work();
    } finally {
      if (button.isConnected) button.disabled = button.dataset.blocked === 'true';
    }
  }

  // ---- secrets shown once ------------------------------------------------------------------

  function showSecret(title, label, value, envName) {
    const n = ++secretCount;
    const headingId = 'secret-' + n + '-heading';
    const valueId = 'secret-' + n + '-value';
    const note = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    const copy = el('button', { type: 'button', class: 'copy', text: 'Copy ' + label });
    const download = el('button', { type: 'button', text: 'Download as .env' });
    const done = el('button', { type: 'button', text: 'I have saved it' });
    const panel = el('section', { class: 'callout warning secret-panel', 'aria-labelledby': headingId },
      el('h2', { id: headingId, tabindex: '-1', text: title }),
      el('p', {}, el('strong', { text: 'Copy it now: it cannot be shown again.' })),
      el('code', { class: 'secret-value', id: valueId, 'aria-labelledby': headingId, text: value }),
      el('div', { class: 'actions' }, copy, download, done),
      note);
    M.wireCopyButton(copy, () => value, note);
    download.addEventListener('click', () => {
      M.downloadText('trusset-mica.env', M.envFile([[envName, value]]));
      M.announce(note, 'Downloaded trusset-mica.env.', 'ok');
    });
    done.addEventListener('click', () => {
      panel.remove();
      $('console-heading').focus();
    });
    $('secrets').prepend(panel);
    panel.querySelector('h2').focus();
  }

  // ---- keys --------------------------------------------------------------------------------

  async function reloadKeys() {
    const answer = await call('GET', '/api/mica/developer/keys');
    if (answer && answer.ok) renderKeys(answer.data);
    else if (answer) M.announce(status, M.describeError(answer), 'error');
  }

  function renderKeys(data) {
    state = data;
    $('account').replaceChildren(el('span', { text: data.developer.name }), ' · ', el('span', { text: data.developer.email }));
    const active = data.keys.filter((k) => k.isActive);
    const revoked = data.keys.filter((k) => !k.isActive);
    const max = data.limits.maxKeys;
    $('keys-summary').textContent = active.length + ' of ' + max + ' active keys. Each key: ' + M.formatLimit(data.limits.perMinute) + ' requests a minute, ' + M.formatLimit(data.limits.perDay) + ' a day.';
    const list = $('keys');
    list.replaceChildren(...active.map(keyCard));
    if (active.length === 0) list.append(el('li', { class: 'empty', text: 'No active key. Create one below.' }));
    if (revoked.length > 0) {
      list.append(el('li', { class: 'revoked-group' },
        el('details', {}, el('summary', { text: 'Revoked keys (' + revoked.length + ')' }), el('ul', { class: 'cards' }, ...revoked.map(keyCard)))));
    }
    const full = active.length >= max;
    $('create-key').dataset.blocked = String(full);
    $('create-key').disabled = full;
    $('create-note').textContent = full ? 'You have ' + max + ' active keys, the most an account may hold: revoke one to create another.' : '';
    renderUsageKeyChoice();
  }

  function keyCard(key) {
    const facts = el('dl', { class: 'facts' },
      el('dt', { text: 'Key' }), el('dd', {}, el('code', { text: key.keyPrefix + '…' + key.keyHint })),
      el('dt', { text: 'Created' }), el('dd', {}, M.timeEl(key.createdAt)),
      el('dt', { text: 'Last used' }), el('dd', {}, M.timeEl(key.lastUsedAt)),
      el('dt', { text: 'Requests' }), el('dd', { text: Number(key.requestCount).toLocaleString('en') }));
    if (key.revokedAt) facts.append(el('dt', { text: 'Revoked' }), el('dd', {}, M.timeEl(key.revokedAt)));
    const card = el('li', { class: 'key-card' + (key.isActive ? '' : ' is-revoked'), 'data-key-id': key.id },
      el('div', { class: 'card-head' }, el('h3', { text: key.name }), el('span', { class: 'badge' + (key.isActive ? ' ok' : ''), text: key.isActive ? 'Active' : 'Revoked' })),
      facts);
    if (key.isActive) {
      const rotate = el('button', { type: 'button' }, 'Rotate', el('span', { class: 'sr-only', text: ' key ' + key.name + ' (' + key.keyPrefix + '…' + key.keyHint + ')' }));
      const revoke = el('button', { type: 'button', class: 'danger' }, 'Revoke', el('span', { class: 'sr-only', text: ' key ' + key.name + ' (' + key.keyPrefix + '…' + key.keyHint + ')' }));
      rotate.addEventListener('click', () => rotateKey(key, rotate));
      revoke.addEventListener('click', () => revokeKey(key, revoke));
      card.append(el('div', { class: 'actions' }, rotate, revoke));
    }
    return card;
  }

  $('create-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = $('create-form');
    M.clearFieldErrors(form);
    const name = $('new-key-name').value.trim();
    await busy($('create-key'), async () => {
      const answer = await call('POST', '/api/mica/developer/keys', name ? { name } : {}, createRetry);
      if (!answer) return;
      if (!answer.ok) {
        if (answer.error.code === 'VALIDATION_ERROR' && M.showFieldErrors(form, answer.error.details)) return;
        M.announce(status, M.describeError(answer), 'error');
        return;
      }
      $('new-key-name').value = '';
      await reloadKeys();
      showSecret('New key “' + answer.data.name + '”', 'key', answer.data.apiKey, 'TRUSSET_MICA_API_KEY');
      M.announce(status, 'Key “' + answer.data.name + '” created.', 'ok');
    });
  });

  async function rotateKey(key, button) {
    const sure = await M.confirmAction('Rotate key “' + key.name + '”?', 'You get a new key, shown once. The key ending in ' + key.keyHint + ' stops working at once: update your programs straight away.', 'Rotate key');
    if (!sure) return;
    await busy(button, async () => {
      const answer = await call('POST', '/api/mica/developer/keys/' + encodeURIComponent(key.id) + '/rotate');
      if (!answer) return;
      if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
      await reloadKeys();
      showSecret('Replacement for key “' + key.name + '”', 'key', answer.data.apiKey, 'TRUSSET_MICA_API_KEY');
      M.announce(status, 'Key “' + key.name + '” rotated: the old key is revoked.', 'ok');
    });
  }

  async function revokeKey(key, button) {
    const sure = await M.confirmAction('Revoke key “' + key.name + '”?', 'Requests with the key ending in ' + key.keyHint + ' fail from now on. This cannot be undone.', 'Revoke key');
    if (!sure) return;
    await busy(button, async () => {
      const answer = await call('DELETE', '/api/mica/developer/keys/' + encodeURIComponent(key.id));
      if (!answer) return;
      if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
      await reloadKeys();
      $('keys-heading').setAttribute('tabindex', '-1');
      $('keys-heading').focus();
      M.announce(status, 'Key “' + key.name + '” revoked.', 'ok');
    });
  }

  $('rotate-token').addEventListener('click', async () => {
    const button = $('rotate-token');
    const sure = await M.confirmAction('Rotate the management token?', 'You get a new token, shown once. The current one stops working at once, also in any other window where it is open.', 'Rotate token');
    if (!sure) return;
    await busy(button, async () => {
      const answer = await call('POST', '/api/mica/developer/management-token/rotate');
      if (!answer) return;
      if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
      token = answer.data.managementToken;
      showSecret('New management token', 'management token', answer.data.managementToken, 'TRUSSET_MICA_MANAGEMENT_TOKEN');
      M.announce(status, 'Management token rotated: the previous one no longer works.', 'ok');
    });
  });

  // ---- usage (SPEC §17) ----------------------------------------------------------------------
  // GET /api/mica/developer/usage answers { from, to, granularity, keys }: every key of the account,
  // newest first, as { keyId, name, keyPrefix, isActive, requestCount, totals: { requests, refused },
  // buckets: [{ start, requests, refused }], quota }. Every `refused` counts by reason (the three of
  // REFUSAL_REASONS); `quota` ({ limit, used, remaining, resetsAt }) is today's allowance of an active
  // key, null for a revoked key or when the daily limit is off.

  const REFUSAL_REASONS = [
    ['IP_NOT_ALLOWED', 'address not allowed'],
    ['SERVICE_NOT_ENABLED', 'service not enabled'],
    ['RATE_LIMIT_EXCEEDED', 'rate limit spent'],
  ];
  const refusedSum = (refused) => REFUSAL_REASONS.reduce((sum, [reason]) => sum + refused[reason], 0);
  const count = (v) => Number(v).toLocaleString('en');

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function usageRange() {
    const to = new Date();
    const from = new Date(to.getTime() - (USAGE_DAYS - 1) * 86400000);
    return { from: isoDay(from), to: isoDay(to) };
  }

  let usageData = null;
  // Bumped by each load: only the answer of the newest one is shown.
  let usageLoads = 0;

  async function loadUsage() {
    const range = usageRange();
    const mine = ++usageLoads;
    const answer = await call('GET', '/api/mica/developer/usage?from=' + range.from + '&to=' + range.to + '&granularity=day');
    if (!answer || mine !== usageLoads) return;
    if (!answer.ok) {
      usageData = null;
      $('usage').replaceChildren(el('p', { class: 'hint', text: 'Usage could not be loaded: ' + M.describeError(answer) }), usageRefreshButton());
      return;
    }
    usageData = answer.data;
    renderUsage();
  }

  function usageRefreshButton() {
    const button = el('button', { type: 'button', id: 'usage-refresh', text: 'Refresh usage' });
    button.addEventListener('click', () => busy(button, async () => {
      await loadUsage();
      if (usageData) {
        $('usage-refresh').focus();
        M.announce(status, 'Usage refreshed.', 'ok');
      }
    }));
    return button;
  }

  /** After keys change, the usage section follows (new keys, revoked ones, their quotas). */
  function renderUsageKeyChoice() {
    if (usageData) void loadUsage();
  }

  /** "name (…hint)" as the key list shows it; the usage answer itself carries the prefix. */
  function usageKeyLabel(key) {
    const known = state ? state.keys.find((k) => k.id === key.keyId) : undefined;
    return key.name + ' (' + (known ? '…' + known.keyHint : key.keyPrefix + '…') + ')' + (key.isActive ? '' : ', revoked');
  }

  function renderUsage() {
    const data = usageData;
    if (usageKey && !data.keys.some((k) => k.keyId === usageKey)) usageKey = '';
    const shown = usageKey ? data.keys.filter((k) => k.keyId === usageKey) : data.keys;
    const days = [];
    for (let d = new Date(data.from + 'T00:00:00Z'); isoDay(d) <= data.to; d = new Date(d.getTime() + 86400000)) days.push({ day: isoDay(d), requests: 0, refused: 0 });
    const byDay = new Map(days.map((d) => [d.day, d]));
    let requests = 0;
    let requestCount = 0;
    const refusedBy = new Map(REFUSAL_REASONS.map(([reason]) => [reason, 0]));
    for (const key of shown) {
      requestCount += key.requestCount;
      requests += key.totals.requests;
      for (const [reason] of REFUSAL_REASONS) refusedBy.set(reason, refusedBy.get(reason) + key.totals.refused[reason]);
      for (const bucket of key.buckets) {
        const day = byDay.get(bucket.start.slice(0, 10));
        if (!day) continue;
        day.requests += bucket.requests;
        day.refused += refusedSum(bucket.refused);
      }
    }
    const refused = [...refusedBy.values()].reduce((a, b) => a + b, 0);
    const busiest = days.reduce((best, d) => (d.requests + d.refused > best.requests + best.refused ? d : best), days[0]);

    const choice = el('select', { id: 'usage-key' }, el('option', { value: '', text: 'All keys' }),
      ...data.keys.map((k) => el('option', { value: k.keyId, text: usageKeyLabel(k), selected: k.keyId === usageKey })));
    choice.addEventListener('change', () => {
      usageKey = choice.value;
      renderUsage();
      $('usage-key').focus();
    });
    const summaryText = count(requests) + ' requests and ' + count(refused) + ' refused from ' + data.from + ' to ' + data.to +
      (requests + refused > 0 ? '; busiest day ' + busiest.day + ' with ' + count(busiest.requests + busiest.refused) + '.' : '.');
    const facts = el('dl', { class: 'facts', id: 'usage-facts' },
      el('dt', { text: 'Requests, all time' }), el('dd', { text: count(requestCount) }));
    if (refused > 0) {
      facts.append(el('dt', { text: 'Refused, by reason' }),
        el('dd', { text: REFUSAL_REASONS.filter(([reason]) => refusedBy.get(reason) > 0).map(([reason, label]) => count(refusedBy.get(reason)) + ' ' + label).join(', ') }));
    }
    $('usage').replaceChildren(
      el('div', { class: 'usage-tools' }, el('div', { class: 'field inline' }, el('label', { for: 'usage-key', text: 'Show' }), choice), usageRefreshButton()),
      el('p', { id: 'usage-summary', text: summaryText }),
      facts,
      chart(days, 'usage-summary'),
      el('details', {}, el('summary', { text: 'Show as a table' }), usageTable(days)),
      quotaTable(shown));
  }

  /** Today's allowance of each key shown that has one (active keys, while the daily limit is on). */
  function quotaTable(keys) {
    const withQuota = keys.filter((k) => k.quota);
    if (withQuota.length === 0) {
      const revokedOnly = keys.length > 0 && keys.every((k) => !k.isActive);
      return el('p', { class: 'hint', id: 'usage-quota', text: revokedOnly ? 'A revoked key has no daily quota.' : keys.length ? 'No daily quota applies to these keys.' : 'No key yet.' });
    }
    return el('table', { id: 'usage-quota' },
      el('caption', { text: "Today's quota (UTC day), resets " + M.formatTime(withQuota[0].quota.resetsAt) }),
      el('thead', {}, el('tr', {}, ...['Key', 'Used', 'Left', 'Per day'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, ...withQuota.map((k) => el('tr', {},
        el('th', { scope: 'row', text: usageKeyLabel(k) }),
        el('td', { text: count(k.quota.used) }),
        el('td', { text: count(k.quota.remaining) }),
        el('td', { text: M.formatLimit(k.quota.limit) })))));
  }

  /** A bar per day, refused requests stacked on top; the numbers are in the table beside it. */
  function chart(days, labelledBy) {
    const width = 600;
    const height = 160;
    const peak = Math.max(1, ...days.map((d) => d.requests + d.refused));
    const slot = width / days.length;
    const svg = el('svg:svg', { viewBox: '0 0 ' + width + ' ' + (height + 20), class: 'chart', role: 'img', 'aria-labelledby': labelledBy, preserveAspectRatio: 'none' });
    svg.append(el('svg:line', { x1: 0, y1: height, x2: width, y2: height, class: 'axis' }));
    days.forEach((d, i) => {
      const ok = (d.requests / peak) * height;
      const bad = (d.refused / peak) * height;
      const x = i * slot + slot * 0.15;
      const w = slot * 0.7;
      if (ok > 0) svg.append(el('svg:rect', { x, y: height - ok, width: w, height: ok, class: 'bar', 'data-day': d.day }));
      if (bad > 0) svg.append(el('svg:rect', { x, y: height - ok - bad, width: w, height: bad, class: 'bar refused', 'data-day': d.day }));
    });
    svg.append(el('svg:text', { x: 0, y: height + 16, class: 'tick', text: days[0].day }));
    svg.append(el('svg:text', { x: width, y: height + 16, class: 'tick end', text: days[days.length - 1].day }));
    return el('figure', { class: 'chart-box' }, svg,
      el('figcaption', {}, el('span', { class: 'swatch' }), ' admitted ', el('span', { class: 'swatch refused' }), ' refused'));
  }

  function usageTable(days) {
    return el('table', { id: 'usage-table' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Day (UTC)' }), el('th', { scope: 'col', text: 'Requests' }), el('th', { scope: 'col', text: 'Refused' }))),
      el('tbody', {}, ...days.slice().reverse().map((d) => el('tr', {}, el('th', { scope: 'row', text: d.day }), el('td', { text: d.requests }), el('td', { text: d.refused })))));
  }

  // ---- webhooks (SPEC §14) -------------------------------------------------------------------
  // GET answers a page of endpoints { id, url, description, events, enabled, disabledReason,
  // previousSecretExpiresAt, createdAt, updatedAt }, newest first, with `pagination`; POST (201) and
  // …/rotate-secret answer the endpoint with its signing `secret`, shown once; PATCH answers the
  // endpoint; DELETE { id, deleted }; POST …/test (202) { eventId, deliveryId, webhookId };
  // GET …/deliveries a page of { type, status, attempt, responseStatus, error, at, nextAttemptAt, … }.

  const WEBHOOKS = '/api/mica/developer/webhooks';
  const webhookRetry = M.retrySafe();

  async function loadWebhooks() {
    const answer = await call('GET', WEBHOOKS);
    if (!answer) return;
    const box = $('webhooks');
    if (!answer.ok) {
      box.replaceChildren(el('p', { class: 'hint', text: 'Webhooks could not be loaded: ' + M.describeError(answer) }));
      return;
    }
    const hooks = answer.data;
    const page = answer.pagination;
    box.replaceChildren(
      el('p', { class: 'hint', text: 'Get a signed POST (Standard Webhooks) when something happens to your keys or token.' }),
      el('ul', { class: 'cards', id: 'webhook-list' }, ...(hooks.length ? hooks.map(webhookCard) : [el('li', { class: 'empty', text: 'No webhook yet.' })])),
      ...(page.hasMore ? [el('p', { class: 'hint', text: 'The newest ' + page.returned + ' of ' + page.total + ' webhooks are shown.' })] : []),
      webhookForm());
  }

  /** Focuses a button of a webhook's card after the list was drawn again. */
  function focusWebhookAction(id, action) {
    const button = $('webhooks').querySelector('[data-webhook-id="' + CSS.escape(id) + '"] button[data-action="' + action + '"]');
    if (button) button.focus();
  }

  function webhookCard(hook) {
    const events = hook.events === null ? 'all events' : hook.events.join(', ');
    const facts = el('dl', { class: 'facts' });
    if (hook.description) facts.append(el('dt', { text: 'Description' }), el('dd', { text: hook.description }));
    facts.append(el('dt', { text: 'Events' }), el('dd', { text: events }), el('dt', { text: 'Created' }), el('dd', {}, M.timeEl(hook.createdAt)));
    if (hook.disabledReason) facts.append(el('dt', { text: 'Why disabled' }), el('dd', { text: hook.disabledReason }));
    if (hook.previousSecretExpiresAt) facts.append(el('dt', { text: 'Previous secret signs until' }), el('dd', {}, M.timeEl(hook.previousSecretExpiresAt)));
    const card = el('li', { class: 'key-card' + (hook.enabled ? '' : ' is-revoked'), 'data-webhook-id': hook.id },
      el('div', { class: 'card-head' }, el('h3', { class: 'url', text: hook.url }), el('span', { class: 'badge' + (hook.enabled ? ' ok' : ''), text: hook.enabled ? 'Enabled' : 'Disabled' })),
      facts);
    const button = (verb, action, attrs) => el('button', { type: 'button', 'data-action': action, ...attrs }, verb, el('span', { class: 'sr-only', text: ' webhook ' + hook.url }));
    const test = button('Send test', 'test', { disabled: !hook.enabled, title: hook.enabled ? undefined : 'Enable the webhook to send a test' });
    if (!hook.enabled) test.dataset.blocked = 'true';
    const toggle = button(hook.enabled ? 'Disable' : 'Enable', 'toggle');
    const rotate = button('Rotate secret', 'rotate');
    const deliveries = button('Deliveries', 'deliveries', { 'aria-expanded': 'false', 'aria-controls': 'deliveries-' + hook.id });
    const remove = button('Delete', 'delete', { class: 'danger' });
    const out = el('div', { class: 'deliveries', id: 'deliveries-' + hook.id });
    const path = WEBHOOKS + '/' + encodeURIComponent(hook.id);

    async function showDeliveries() {
      const answer = await call('GET', path + '/deliveries?limit=20');
      if (!answer) return;
      if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
      out.replaceChildren(deliveryTable(answer.data, answer.pagination));
      deliveries.setAttribute('aria-expanded', 'true');
    }

    test.addEventListener('click', () => busy(test, async () => {
      const answer = await call('POST', path + '/test');
      if (!answer) return;
      if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
      M.announce(status, 'Test event queued for ' + hook.url + ' (webhook-id ' + answer.data.webhookId + '). Deliveries shows how it went.', 'ok');
      if (deliveries.getAttribute('aria-expanded') === 'true') await showDeliveries();
    }));
    toggle.addEventListener('click', () => busy(toggle, async () => {
      const answer = await call('PATCH', path, { enabled: !hook.enabled });
      if (!answer) return;
      if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
      await loadWebhooks();
      focusWebhookAction(hook.id, 'toggle');
      M.announce(status, 'Webhook ' + answer.data.url + (answer.data.enabled ? ' enabled.' : ' disabled: nothing is sent to it until it is enabled again.'), 'ok');
    }));
    rotate.addEventListener('click', async () => {
      const sure = await M.confirmAction('Rotate the signing secret?', 'You get a new secret, shown once. The old one keeps signing alongside it for 24 hours.', 'Rotate secret');
      if (!sure) return;
      await busy(rotate, async () => {
        const answer = await call('POST', path + '/rotate-secret');
        if (!answer) return;
        if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
        await loadWebhooks();
        showSecret('New signing secret for ' + answer.data.url, 'secret', answer.data.secret, 'TRUSSET_WEBHOOK_SECRET');
      });
    });
    deliveries.addEventListener('click', () => busy(deliveries, async () => {
      if (deliveries.getAttribute('aria-expanded') === 'true') {
        out.replaceChildren();
        deliveries.setAttribute('aria-expanded', 'false');
        return;
      }
      await showDeliveries();
    }));
    remove.addEventListener('click', async () => {
      const sure = await M.confirmAction('Delete this webhook?', 'Nothing more is sent to ' + hook.url + ', and its delivery log is deleted with it.', 'Delete webhook');
      if (!sure) return;
      await busy(remove, async () => {
        const answer = await call('DELETE', path);
        if (!answer) return;
        if (!answer.ok) return M.announce(status, M.describeError(answer), 'error');
        await loadWebhooks();
        $('webhooks-heading').setAttribute('tabindex', '-1');
        $('webhooks-heading').focus();
        M.announce(status, 'Webhook ' + hook.url + ' deleted.', 'ok');
      });
    });
    card.append(el('div', { class: 'actions' }, test, toggle, rotate, deliveries, remove), out);
    return card;
  }

  function deliveryResult(d) {
    const parts = [d.status];
    if (d.responseStatus !== null) parts.push('HTTP ' + d.responseStatus);
    if (d.error) parts.push(d.error);
    if (d.status === 'PENDING' && d.nextAttemptAt) parts.push('next attempt ' + M.formatTime(d.nextAttemptAt));
    return parts.join(' · ');
  }

  function deliveryTable(rows, page) {
    if (rows.length === 0) return el('p', { class: 'hint', text: 'No delivery yet.' });
    return el('table', {},
      el('caption', { text: page.hasMore ? 'The newest ' + page.returned + ' of ' + page.total + ' deliveries' : 'Deliveries, newest first' }),
      el('thead', {}, el('tr', {}, ...['When', 'Event', 'Attempts', 'Result'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, ...rows.map((d) => el('tr', {},
        el('td', {}, M.timeEl(d.at)),
        el('td', { text: d.type }),
        el('td', { text: d.attempt }),
        el('td', { text: deliveryResult(d) })))));
  }

  function webhookForm() {
    const checks = MICA_EVENTS.map((name, i) => el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'events', value: name, id: 'hook-event-' + i }), ' ' + name));
    const form = el('form', { class: 'inline-form', id: 'webhook-form', method: 'post', action: '/mica-console', novalidate: true },
      el('h3', { text: 'Add a webhook' }),
      el('div', { class: 'field' },
        el('label', { for: 'hook-url', text: 'URL (https)' }),
        el('input', { id: 'hook-url', name: 'url', type: 'url', required: true, autocomplete: 'off', placeholder: 'https://example.com/hooks/trusset', 'aria-describedby': 'hook-url-error' }),
        el('p', { class: 'field-error', id: 'hook-url-error', 'data-error-for': 'url', hidden: true })),
      el('div', { class: 'field' },
        el('label', { for: 'hook-description' }, 'Description ', el('span', { class: 'optional', text: '(optional)' })),
        el('input', { id: 'hook-description', name: 'description', type: 'text', maxlength: '500', autocomplete: 'off', 'aria-describedby': 'hook-description-error' }),
        el('p', { class: 'field-error', id: 'hook-description-error', 'data-error-for': 'description', hidden: true })),
      el('fieldset', { class: 'events' }, el('legend', { text: 'Events (none ticked: all)' }), ...checks,
        el('p', { class: 'field-error', id: 'hook-events-error', 'data-error-for': 'events', hidden: true })),
      el('button', { type: 'submit', text: 'Add webhook' }));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      M.clearFieldErrors(form);
      const url = form.querySelector('#hook-url').value.trim();
      if (!url) {
        M.setFieldError(form.querySelector('#hook-url'), form.querySelector('#hook-url-error'), 'Enter the https address that should receive events.');
        form.querySelector('#hook-url').focus();
        return;
      }
      const body = { url };
      const description = form.querySelector('#hook-description').value.trim();
      if (description) body.description = description;
      const events = [...form.querySelectorAll('input[name=events]:checked')].map((c) => c.value);
      if (events.length) body.events = events;
      await busy(form.querySelector('button[type=submit]'), async () => {
        const answer = await call('POST', WEBHOOKS, body, webhookRetry);
        if (!answer) return;
        if (!answer.ok) {
          if (answer.error.code === 'VALIDATION_ERROR' && M.showFieldErrors(form, answer.error.details)) return;
          M.announce(status, M.describeError(answer), 'error');
          return;
        }
        await loadWebhooks();
        showSecret('Signing secret for ' + url, 'secret', answer.data.secret, 'TRUSSET_WEBHOOK_SECRET');
        M.announce(status, 'Webhook added.', 'ok');
      });
    });
    return form;
  }

  $('unlock-fields').disabled = false;
})();
