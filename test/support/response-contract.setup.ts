import { contractViolations } from './response-contract';

/**
 * Fails the test during which an answer broke the OpenAPI document (see response-contract.ts), and
 * names each answer, so the document cannot drift from what the routes send.
 */
function drain(): void {
  if (contractViolations.length === 0 || process.env.CONTRACT_LOG) {
    contractViolations.length = 0;
    return;
  }
  const list = contractViolations.splice(0).slice(0, 20);
  throw new Error(
    `answers that break the served OpenAPI document:\n${list.map((v) => `  ${v.method} ${v.path} → ${v.status}: ${v.problem}`).join('\n')}`,
  );
}

afterEach(drain);
afterAll(drain);
