import { AppException } from '../common/errors/app.exception';
import { loadConfig } from '../config/app.config';
import { limitRules } from './limit-rules';
import { appendLimitHeaders, enforceLimits, LimitState, rateLimitHeaders } from './rate-limiter.service';

const state = (over: Partial<LimitState> = {}): LimitState => ({
  limit: 10,
  remaining: 3,
  resetSeconds: 20,
  exceeded: false,
  rule: 'r',
  ...over,
});

/** A response that keeps what is set on it. */
function headerSink() {
  const headers: Record<string, string> = {};
  return { headers, setHeader: (name: string, value: string) => (headers[name] = value) };
}

function refusal(run: () => void): AppException {
  try {
    run();
  } catch (e) {
    return e as AppException;
  }
  throw new Error('expected a refusal');
}

describe('limitRules', () => {
  it('names every rule as the store has always counted it, with its configured limit', () => {
    const rules = limitRules(
      loadConfig({ RATE_LIMIT_PER_KEY_PER_MINUTE: '7', RATE_LIMIT_STRICT_PER_MINUTE: '3', MICA_RATE_LIMIT_PER_DAY: '9' }),
    );
    expect(Object.fromEntries(Object.entries(rules).map(([what, rule]) => [what, rule.name]))).toEqual({
      perKey: 'instance-key',
      keyManagement: 'key-management',
      micaKeyManagement: 'mica-key-management',
      micaMinute: 'mica-minute',
      micaDay: 'mica-day',
      registration: 'mica-registration',
      failedAuth: 'auth-failures',
    });
    expect(rules.perKey).toMatchObject({ limit: 7, windowMs: 60_000, batch: 10 });
    expect(rules.micaDay).toMatchObject({ limit: 9, windowMs: 86_400_000 });
    expect(rules.registration).toMatchObject({ limit: 3, perAddress: true });
    expect(rules.failedAuth).toMatchObject({ limit: 3, perAddress: true });
  });
});

describe('limit headers', () => {
  it('spells the same headers as a flat list (the raw lane) and as a record', () => {
    const flat: string[] = [];
    appendLimitHeaders(flat, state(), '-Day');
    expect(flat).toEqual(['X-RateLimit-Limit-Day', '10', 'X-RateLimit-Remaining-Day', '3', 'X-RateLimit-Reset-Day', '20']);
    expect(rateLimitHeaders(state(), '-Day')).toEqual({
      'X-RateLimit-Limit-Day': '10',
      'X-RateLimit-Remaining-Day': '3',
      'X-RateLimit-Reset-Day': '20',
    });
  });
});

describe('enforceLimits', () => {
  it('writes the headers of a limit not spent and lets the request through', () => {
    const res = headerSink();
    enforceLimits(res, [state(), '']);
    expect(res.headers).toEqual({ 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '3', 'X-RateLimit-Reset': '20' });
  });

  it('says nothing for a rule that is off', () => {
    const res = headerSink();
    enforceLimits(res, [undefined, '']);
    expect(res.headers).toEqual({});
  });

  it('refuses with the 429 of the spent limit that frees up last, carrying every header and Retry-After', () => {
    const res = headerSink();
    const minute = state({ exceeded: true, remaining: 0, resetSeconds: 30, rule: 'mica-minute' });
    const day = state({ exceeded: true, remaining: 0, resetSeconds: 5000, rule: 'mica-day' });
    const e = refusal(() => enforceLimits(res, [minute, '-Minute'], [day, '-Day']));
    expect(e).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', limiter: 'mica-day' });
    expect(e.headers).toEqual({ ...res.headers, 'Retry-After': '5000' });
    expect(Object.keys(res.headers)).toHaveLength(6);
  });

  it('refuses without writing on the response when given none (a limit that only speaks when it refuses)', () => {
    const e = refusal(() => enforceLimits(undefined, [state({ exceeded: true, remaining: 0 }), '']));
    expect(e.headers).toEqual({ 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '20', 'Retry-After': '20' });
  });
});
