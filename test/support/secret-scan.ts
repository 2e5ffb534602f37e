import { capturedLogLines } from './log-capture';

/**
 * Secret hygiene across the whole run: after each test file, no captured log line (SQL with its
 * parameters included, see startTestApp) may carry anything shaped like a credential. The redactor
 * should have removed it; this proves it did, whatever the test exercised.
 */
export const SECRET_SHAPES: Array<[string, RegExp]> = [
  ['instance key', /trusset_[A-Za-z0-9]{8}_[0-9a-f]{64}/],
  ['MiCA key', /trusset_mica_[0-9a-f]{48}/],
  ['64-hex token', /(?<![0-9A-Fa-f])[0-9a-f]{64}(?![0-9A-Fa-f])/],
  ['webhook secret', /whsec_[A-Za-z0-9+/]{43}=/],
];

/** The first captured log line shaped like a secret, with the name of the shape, or undefined. */
export function findSecretShapedLine(lines: readonly string[]): { shape: string; line: string } | undefined {
  for (const line of lines) {
    // The match itself is masked: a failure report must not print the secret it found.
    for (const [shape, pattern] of SECRET_SHAPES) if (pattern.test(line)) return { shape, line: line.replace(pattern, '<secret>') };
  }
  return undefined;
}

afterAll(() => {
  const found = findSecretShapedLine(capturedLogLines);
  if (found) throw new Error(`a log line carries something shaped like a ${found.shape}: ${found.line.slice(0, 500)}`);
});
