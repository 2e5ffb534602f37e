import { ERROR_CODES, ErrorCode } from '../common/errors/error-codes';
import { errorJson, headerSafe } from './hot-path.response';

describe('errorJson', () => {
  it('writes every code exactly as JSON.stringify of the envelope does', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const body = errorJson(code, 'a1b2c3d4-0000-4000-8000-000000000000');
      const { metadata } = JSON.parse(body) as { metadata: { timestamp: string } };
      const expected = JSON.stringify({
        success: false,
        error: { code, message: ERROR_CODES[code].message },
        metadata: { requestId: 'a1b2c3d4-0000-4000-8000-000000000000', timestamp: metadata.timestamp },
      });
      expect(body).toBe(expected);
    }
  });

  it('keeps details, escaped by JSON.stringify', () => {
    const body = errorJson('VALIDATION_ERROR', 'req-12345678', { 'service"\n': ['is not a service'] });
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: { 'service"\n': ['is not a service'] } } });
  });
});

describe('headerSafe', () => {
  it('leaves printable ASCII as it is and escapes everything else', () => {
    expect(headerSafe('{"a":"b"}')).toBe('{"a":"b"}');
    expect(headerSafe('{"a":"\u00e9\r"}')).toBe('{"a":"\\u00e9\\u000d"}');
  });
});
