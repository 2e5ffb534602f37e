import { corsDecision, normaliseOrigin } from './cors';

describe('corsDecision', () => {
  const allowed = new Set(['https://dashboard.example.com', 'http://localhost:5173']);

  it('allows a listed origin, exposes the documented headers, and never allows credentials', () => {
    const d = corsDecision(allowed, { method: 'GET', origin: 'https://dashboard.example.com', requestMethod: undefined });
    expect(d.preflight).toBe(false);
    expect(d.headers['Access-Control-Allow-Origin']).toBe('https://dashboard.example.com');
    expect(d.headers['Access-Control-Expose-Headers']).toEqual(expect.stringContaining('X-RateLimit-Remaining'));
    expect(d.headers['Access-Control-Expose-Headers']).toEqual(expect.stringContaining('Retry-After'));
    expect(d.headers.Vary).toBe('Origin');
    expect(d.headers).not.toHaveProperty('Access-Control-Allow-Credentials');
  });

  it('answers the preflight of a listed origin with the key headers allowed', () => {
    const d = corsDecision(allowed, { method: 'OPTIONS', origin: 'http://localhost:5173', requestMethod: 'POST' });
    expect(d.preflight).toBe(true);
    for (const h of ['X-API-Key', 'Authorization', 'Idempotency-Key']) expect(d.headers['Access-Control-Allow-Headers']).toContain(h);
  });

  it.each(['https://evil.example.com', 'https://dashboard.example.com.evil.com', 'null', 'http://dashboard.example.com', undefined])(
    'gives %p no CORS header (only Vary)',
    (origin) => {
      const d = corsDecision(allowed, { method: 'OPTIONS', origin, requestMethod: 'GET' });
      expect(d).toEqual({ preflight: false, headers: { Vary: 'Origin' } });
    },
  );

  it('sends nothing at all when no origin is configured', () => {
    expect(corsDecision(new Set(), { method: 'GET', origin: 'https://dashboard.example.com', requestMethod: undefined })).toEqual({
      preflight: false,
      headers: {},
    });
  });

  it('normalises origins and refuses paths, credentials and other schemes', () => {
    expect(normaliseOrigin('HTTPS://Dashboard.Example.com:443')).toBe('https://dashboard.example.com');
    expect(normaliseOrigin('http://localhost:5173/')).toBe('http://localhost:5173');
    for (const bad of ['https://a.example.com/app', 'https://u:p@a.example.com', 'ftp://a.example.com', 'a.example.com', '*'])
      expect(normaliseOrigin(bad)).toBeUndefined();
  });
});
