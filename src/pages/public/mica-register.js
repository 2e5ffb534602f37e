/*
 * The sign-up page: one call of POST /api/mica/developer/register. The key and token it returns live
 * only in this page's DOM and variables; leaving the page (pagehide) wipes them.
 */
'use strict';
(function () {
  const M = window.Mica;
  const form = document.getElementById('signup-form');
  const fields = document.getElementById('signup-fields');
  const submit = document.getElementById('signup-submit');
  const status = document.getElementById('signup-status');
  const result = document.getElementById('result');
  const signup = document.getElementById('signup');
  const resultStatus = document.getElementById('result-status');
  const tryStatus = document.getElementById('try-status');
  const nameInput = document.getElementById('name');
  const emailInput = document.getElementById('email');
  let secrets = null;
  const signupRetry = M.retrySafe();

  function curlCommand(apiKey) {
    return "curl -H 'X-API-Key: " + apiKey + "' " + location.origin + '/api/mica/v1/health';
  }

  /** Checks the browser can make before asking the API (which checks everything again). */
  function localErrors() {
    const errors = {};
    const name = nameInput.value.trim();
    if (name.length < 2 || name.length > 100) errors.name = ['Enter your name (2 to 100 characters)'];
    const email = emailInput.value.trim();
    if (!email) errors.email = ['Enter your email address'];
    else if (!emailInput.checkValidity()) errors.email = ['Enter an email address like name@example.com'];
    return errors;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    M.clearFieldErrors(form);
    const errors = localErrors();
    if (Object.keys(errors).length > 0) {
      M.showFieldErrors(form, errors);
      M.announce(status, 'Please correct the highlighted fields.', 'error');
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Creating account…';
    M.announce(status, 'Creating your account…', '');
    const body = { name: nameInput.value.trim(), email: emailInput.value.trim() };
    const answer = await M.api('POST', '/api/mica/developer/register', { body, idempotencyKey: signupRetry.keyFor(body) });
    signupRetry.settle(answer);
    submit.disabled = false;
    submit.textContent = 'Create account';
    if (!answer.ok) return showFailure(answer);
    showSecrets(answer.data);
  });

  function showFailure(answer) {
    const code = answer.error.code;
    if (code === 'EMAIL_EXISTS') {
      M.setFieldError(emailInput, document.getElementById('email-error'), answer.error.message + ' Open the console with its management token instead.');
      emailInput.focus();
      M.announce(status, answer.error.message, 'error');
      return;
    }
    if (code === 'VALIDATION_ERROR' && M.showFieldErrors(form, answer.error.details)) {
      M.announce(status, 'Please correct the highlighted fields.', 'error');
      return;
    }
    M.announce(status, M.describeError(answer), 'error');
  }

  function showSecrets(data) {
    secrets = { apiKey: data.apiKey, managementToken: data.managementToken };
    document.getElementById('api-key').textContent = data.apiKey;
    document.getElementById('management-token').textContent = data.managementToken;
    document.getElementById('curl-command').textContent = curlCommand(data.apiKey);
    const limits = data.limits || {};
    document.getElementById('limits').textContent =
      'Each key may make ' + M.formatLimit(limits.perMinute) + ' requests a minute and ' + M.formatLimit(limits.perDay) + ' a day (UTC); an account holds up to ' + limits.maxKeys + ' active keys.';
    form.reset();
    signup.hidden = true;
    result.hidden = false;
    document.title = 'Your key · Trusset MiCA Register API';
    document.getElementById('result-heading').focus();
  }

  for (const button of document.querySelectorAll('button[data-copy]')) {
    const source = document.getElementById(button.dataset.copy);
    // The curl command's copy button sits below the fold; its confirmation is said beside it.
    M.wireCopyButton(button, () => source.textContent, button.dataset.copy === 'curl-command' ? tryStatus : resultStatus);
  }

  document.getElementById('download-env').addEventListener('click', () => {
    if (!secrets) return;
    M.downloadText('trusset-mica.env', M.envFile([
      ['TRUSSET_MICA_API_KEY', secrets.apiKey],
      ['TRUSSET_MICA_MANAGEMENT_TOKEN', secrets.managementToken],
      ['TRUSSET_MICA_BASE_URL', location.origin + '/api/mica/v1'],
    ]));
    M.announce(resultStatus, 'Downloaded trusset-mica.env. Keep it out of version control.', 'ok');
  });

  document.getElementById('try-key').addEventListener('click', async () => {
    if (!secrets) return;
    M.announce(tryStatus, 'Sending…', '');
    const answer = await M.api('GET', '/api/mica/v1/health', { apiKey: secrets.apiKey });
    if (!answer.ok) return M.announce(tryStatus, 'The key was refused: ' + M.describeError(answer), 'error');
    const d = answer.data;
    M.announce(tryStatus, 'It works: the register is ' + d.status + ' with ' + d.totalIssuers + ' entries (API ' + d.apiVersion + ').', 'ok');
  });

  // Nothing of this page outlives it: the secrets leave memory and the DOM when it is left.
  window.addEventListener('pagehide', () => {
    secrets = null;
    for (const id of ['api-key', 'management-token', 'curl-command']) document.getElementById(id).textContent = '';
    result.hidden = true;
    signup.hidden = false;
  });

  fields.disabled = false;
})();
