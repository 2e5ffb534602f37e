import { ConfigError, loadConfig } from '../config/app.config';

describe('webhook configuration', () => {
  it('defaults to the SPEC schedule, a 10 s timeout, https and public targets only', () => {
    expect(loadConfig({}).webhooks).toEqual({
      deliveryEnabled: true,
      maxEndpointsPerOwner: 10,
      retryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000],
      timeoutMs: 10_000,
      allowHttp: false,
      allowPrivateTargets: false,
      retentionDays: 30,
      expiryNoticeSeconds: 604_800,
      overlapNoticeSeconds: 86_400,
      pollIntervalMs: 1000,
      schedulerIntervalMs: 60_000,
      concurrency: 16,
    });
  });

  it('reads a shortened schedule and the two lifts', () => {
    const c = loadConfig({ WEBHOOK_RETRY_SCHEDULE: '1, 2,3', WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'yes' }).webhooks;
    expect([c.retryScheduleSeconds, c.allowHttp, c.allowPrivateTargets]).toEqual([[1, 2, 3], true, true]);
  });

  it.each([
    ['WEBHOOK_RETRY_SCHEDULE', '5,,10'],
    ['WEBHOOK_RETRY_SCHEDULE', '5,-1'],
    ['WEBHOOK_RETRY_SCHEDULE', '1.5'],
    ['WEBHOOK_TIMEOUT_MS', '0'],
    ['WEBHOOK_ALLOW_PRIVATE_TARGETS', 'maybe'],
    ['WEBHOOK_MAX_ENDPOINTS', '0'],
    ['WEBHOOK_RETENTION_DAYS', 'x'],
  ])('refuses %s=%s at start, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
