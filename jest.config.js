// Unit specs live beside the source (src/.../*.spec.ts); end-to-end suites in test/ (*.e2e-spec.ts).
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '(src/.*\\.spec\\.ts|test/.*\\.e2e-spec\\.ts)$',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  testTimeout: 60000,
  maxWorkers: 2,
  setupFiles: ['<rootDir>/test/support/jest.setup.ts'],
  // Fails a test file whose log lines carry anything shaped like a key or token, and a test during
  // which an answer broke the served OpenAPI document.
  setupFilesAfterEnv: ['<rootDir>/test/support/secret-scan.ts', '<rootDir>/test/support/response-contract.setup.ts'],
};
