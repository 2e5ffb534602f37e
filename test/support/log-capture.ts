import { setLogSink } from '../../src/common/logging/json-logger';

/** Every log line the app writes during this test file, kept so tests can prove what was (not) logged. */
export const capturedLogLines: string[] = [];

export function captureLogs(): void {
  setLogSink((line) => {
    capturedLogLines.push(line);
    if (process.env.TEST_PRINT_LOGS === '1') process.stdout.write(line + '\n');
  });
}
