import { parseBearer } from './bearer';

describe('parseBearer', () => {
  it.each(['Bearer abc', 'bearer abc', 'BEARER abc', 'Bearer  abc '])('accepts %p', (h) => {
    expect(parseBearer(h)).toEqual({ ok: true, token: 'abc' });
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Token abc', 'Bearer a b', 'Bearerabc', ['Bearer a', 'Bearer b']])(
    'refuses %p',
    (h) => {
      expect(parseBearer(h as string)).toEqual({ ok: false });
    },
  );
});
