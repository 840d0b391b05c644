import { randomBytes } from 'node:crypto';
import type { TestApp } from './test-app';

export interface SignedInUser {
  id: string;
  email: string;
  password: string;
  name: string;
  accessToken: string;
  refreshToken: string;
}

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** A short random hex string, for names and emails not used before. */
export const token = (): string => randomBytes(4).toString('hex');

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${token()}@example.com`;
}

/** Registers a user through the API and returns its credentials and first tokens. */
export async function registerUser(
  t: TestApp,
  overrides: Partial<{ email: string; password: string; name: string }> = {},
): Promise<SignedInUser> {
  const body = { email: uniqueEmail(), password: 'password-123', name: 'Test User', ...overrides };
  const res = await t.http().post('/api/v1/auth/register').send(body).expect(201);
  return {
    id: res.body.data.user.id,
    email: res.body.data.user.email,
    password: body.password,
    name: res.body.data.user.name,
    accessToken: res.body.data.accessToken,
    refreshToken: res.body.data.refreshToken,
  };
}

export async function login(
  t: TestApp,
  email: string,
  password: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await t.http().post('/api/v1/auth/login').send({ email, password }).expect(200);
  return { accessToken: res.body.data.accessToken, refreshToken: res.body.data.refreshToken };
}

/** A platform admin, made the way operators make one (the same service the CLI uses). */
export async function createAdmin(t: TestApp): Promise<SignedInUser> {
  const user = await registerUser(t, { name: 'Admin' });
  await t.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
  return { ...user, ...(await login(t, user.email, user.password)) };
}
