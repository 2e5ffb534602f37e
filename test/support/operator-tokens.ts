import type { TestApp } from './test-app';

export interface TestOperatorToken {
  id: string;
  name: string;
  token: string;
  /** `Authorization: Bearer <token>`. */
  auth: { Authorization: string };
}

/** A fresh operator token made with `by` (default ADMIN_TOKEN). */
export async function createOperatorToken(
  t: TestApp,
  body: { name?: string; scopes: string[]; instanceRefs?: string[] | null; expiresAt?: string },
  by: { Authorization: string } = t.admin,
): Promise<TestOperatorToken> {
  const name = body.name ?? `operator ${Math.random().toString(36).slice(2, 10)}`;
  const res = await t
    .http()
    .post('/api/admin/tokens')
    .set(by)
    .send({ ...body, name });
  if (res.status !== 201) throw new Error(`creating an operator token answered ${res.status} ${JSON.stringify(res.body.error)}`);
  const { id, token } = res.body.data;
  return { id, name, token, auth: { Authorization: `Bearer ${token}` } };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
