/*
 * Shared by the MiCA developer pages: calls of the public JSON API, error envelopes, copying and
 * downloading secrets, and building DOM without ever parsing text as HTML (every value the API
 * returns is set as text).
 */
'use strict';
(function () {
  /** One call of the public API, same origin, no cookies, nothing cached. */
  async function api(method, path, options) {
    const opts = options || {};
    const headers = { Accept: 'application/json' };
    if (opts.token) headers.Authorization = 'Bearer ' + opts.token;
    if (opts.apiKey) headers['X-API-Key'] = opts.apiKey;
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', redirect: 'error' });
    } catch (e) {
      return { ok: false, status: 0, error: { code: 'NETWORK_ERROR', message: 'The service could not be reached. Check your connection and try again.' } };
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (e) {
      payload = null;
    }
    const retryAfter = Number(response.headers.get('Retry-After'));
    if (response.ok && payload && payload.success) {
      return { ok: true, status: response.status, data: payload.data, pagination: payload.pagination };
    }
    const error = payload && payload.error && typeof payload.error.code === 'string'
      ? payload.error
      : { code: 'HTTP_' + response.status, message: 'The service answered with HTTP ' + response.status + '.' };
    return { ok: false, status: response.status, error, retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined };
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /**
   * An Idempotency-Key (SPEC §13) for a create that may be sent again: the same key while the same
   * body is retried after a network error or a 5xx (so a lost answer is answered again, not done
   * twice), a fresh one once the API gave a definite answer or the body changed.
   */
  function retrySafe() {
    let pending = null;
    return {
      keyFor(body) {
        const text = JSON.stringify(body);
        if (!pending || pending.body !== text) pending = { body: text, key: randomId() };
        return pending.key;
      },
      settle(answer) {
        if (answer.status !== 0 && answer.status < 500 && !(answer.error && answer.error.code === 'IDEMPOTENCY_IN_PROGRESS')) pending = null;
      },
    };
  }

  function waitText(seconds) {
    if (seconds < 60) return seconds + (seconds === 1 ? ' second' : ' seconds');
    const minutes = Math.ceil(seconds / 60);
    return minutes + (minutes === 1 ? ' minute' : ' minutes');
  }

  /** The envelope's message, with the wait a 429 asks for. */
  function describeError(result) {
    if (result.status === 429) {
      return 'Too many requests from here. Please wait ' + (result.retryAfter ? waitText(result.retryAfter) : 'a minute') + ' and try again.';
    }
    return result.error.message;
  }

  /** Builds an element: attrs are set as attributes (or properties for on*-free keys), children as text or nodes. */
  function el(tag, attrs) {
    const node = document.createElementNS(tag.startsWith('svg:') ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml', tag.replace(/^svg:/, ''));
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === 'text') node.textContent = String(value);
      else if (name === 'class') node.setAttribute('class', value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (let i = 2; i < arguments.length; i++) {
      const child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Says something in a live region; kind is '', 'ok' or 'error'. */
  function announce(region, message, kind) {
    region.textContent = '';
    region.classList.remove('ok', 'error');
    if (kind) region.classList.add(kind);
    // A fresh text node after clearing makes screen readers announce a repeated message too.
    window.requestAnimationFrame(() => {
      region.textContent = message;
    });
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (e) {
        /* fall through to the selection-based copy */
      }
    }
    const area = el('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
    area.value = text;
    document.body.append(area);
    area.select();
    let done = false;
    try {
      done = document.execCommand('copy');
    } catch (e) {
      done = false;
    }
    area.remove();
    return done;
  }

  /** Offers text as a file; the object URL lives only for the click. */
  function downloadText(filename, text) {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = el('a', { href: url, download: filename, class: 'offscreen' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /** `KEY=value` lines; values are hex and `trusset_mica_…`, so no quoting is needed. */
  function envFile(entries) {
    return '# Trusset MiCA Register API (' + location.origin + '), saved ' + new Date().toISOString() + '\n' +
      entries.map(([name, value]) => name + '=' + value).join('\n') + '\n';
  }

  /** A per-minute or per-day allowance as a person reads it (0 turns the limiter off). */
  function formatLimit(n) {
    return Number(n) === 0 ? 'unlimited' : Number(n).toLocaleString('en');
  }

  function formatTime(iso) {
    if (!iso) return 'never';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }

  function timeEl(iso) {
    return iso ? el('time', { datetime: iso, text: formatTime(iso) }) : document.createTextNode('never');
  }

  /** Shows field errors from an envelope's details next to their inputs; returns whether any was shown. */
  function showFieldErrors(form, details) {
    let first = null;
    for (const [field, messages] of Object.entries(details || {})) {
      const box = form.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
      const input = form.querySelector('[name="' + CSS.escape(field) + '"]');
      if (!box || !input) continue;
      setFieldError(input, box, capitalise(Array.isArray(messages) ? messages.join('; ') : String(messages)));
      first = first || input;
    }
    if (first) first.focus();
    return first !== null;
  }

  function capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
  }

  function setFieldError(input, box, message) {
    box.textContent = message;
    box.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  }

  function clearFieldErrors(form) {
    for (const box of form.querySelectorAll('.field-error')) {
      box.textContent = '';
      box.hidden = true;
    }
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  /** Copy buttons: `data-copy` names the element whose text is copied; the button says it worked. */
  function wireCopyButton(button, getText, region) {
    button.addEventListener('click', async () => {
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      const ok = await copyText(getText());
      button.textContent = ok ? 'Copied' : 'Copy failed';
      const what = label.replace(/^Copy /, '');
      announce(region, ok ? what.charAt(0).toUpperCase() + what.slice(1) + ' copied to the clipboard.' : 'Copying did not work here: select the text and copy it by hand.', ok ? 'ok' : 'error');
      setTimeout(() => {
        button.textContent = label;
      }, 2000);
    });
  }

  /**
   * A modal confirmation (native <dialog>: focus is held inside, Escape cancels). Focus starts on
   * Cancel so that a stray Enter never confirms something final.
   */
  function confirmAction(title, message, confirmLabel) {
    return new Promise((resolve) => {
      const cancel = el('button', { type: 'button', text: 'Cancel' });
      const confirm = el('button', { type: 'button', class: 'danger', text: confirmLabel });
      const heading = el('h2', { id: 'confirm-title', text: title });
      const text = el('p', { id: 'confirm-text', text: message });
      const dialog = el('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' }, heading, text, el('div', { class: 'actions' }, cancel, confirm));
      const opener = document.activeElement;
      const finish = (value) => {
        if (dialog.open) dialog.close();
        dialog.remove();
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
        resolve(value);
      };
      cancel.addEventListener('click', () => finish(false));
      confirm.addEventListener('click', () => finish(true));
      dialog.addEventListener('cancel', (e) => {
        e.preventDefault();
        finish(false);
      });
      document.body.append(dialog);
      dialog.showModal();
      cancel.focus();
    });
  }

  window.Mica = { api, retrySafe, describeError, el, announce, copyText, downloadText, envFile, formatLimit, formatTime, timeEl, showFieldErrors, setFieldError, clearFieldErrors, wireCopyButton, confirmAction };
})();
