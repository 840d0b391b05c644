import { Client } from 'pg';
import { scratchDatabases } from '../tools/scratch-databases';

/**
 * A fresh database for one benchmark run: on DATABASE_URL's server, else on an embedded
 * PostgreSQL in a temporary folder. `release` drops it (and stops the embedded server).
 */
export async function benchDatabase(label: string): Promise<{ databaseUrl: string; release(): Promise<void> }> {
  const databases = await scratchDatabases(label);
  return { databaseUrl: await databases.create(`tasklane_${label}_${Date.now()}`), release: () => databases.release() };
}

export interface BenchData {
  email: string;
  password: string;
  token: string;
  /** A viewer API key of the org (`tl_…`). */
  apiKey: string;
  userId: string;
  orgId: string;
  projectId: string;
  /** The project's first task; 1,000 more follow it. */
  taskId: string;
}

/**
 * The data every benchmark reads: a user, an org with an API key, a project of 1,001 tasks — the first through
 * the API of the server at `base`, the rest inserted straight into `databaseUrl` (and analyzed).
 */
export async function seedBenchData(base: string, databaseUrl: string): Promise<BenchData> {
  const post = async <T>(path: string, body: unknown, token?: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: T }).data;
  };
  const email = `bench-${Date.now()}@example.com`;
  const password = 'bench-password-1';
  const registered = await post<{ accessToken: string; user: { id: string } }>('/api/v1/auth/register', {
    email,
    password,
    name: 'Bench',
  });
  const token = registered.accessToken;
  const userId = registered.user.id;
  const orgId = (await post<{ id: string }>('/api/v1/orgs', { name: 'Bench' }, token)).id;
  const projectId = (await post<{ id: string }>(`/api/v1/orgs/${orgId}/projects`, { key: 'BEN', name: 'Bench' }, token))
    .id;
  const taskId = (await post<{ id: string }>(`/api/v1/projects/${projectId}/tasks`, { title: 'First' }, token)).id;
  const apiKey = (
    await post<{ token: string }>(`/api/v1/orgs/${orgId}/api-keys`, { name: 'Bench', role: 'viewer' }, token)
  ).token;
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(
      `WITH p AS (SELECT id, org_id, key FROM projects WHERE id = $1)
       INSERT INTO tasks (project_id, org_id, project_key, number, title, description, status, priority, labels, created_by)
       SELECT p.id, p.org_id, p.key, n, 'Task ' || n, 'Description of task ' || n,
              (ARRAY['todo','in_progress','done','canceled'])[1 + n % 4],
              (ARRAY['low','medium','high','urgent'])[1 + n % 4], ARRAY['bench'], $2
         FROM p, generate_series(2, 1001) AS n`,
      [projectId, userId],
    );
    await db.query('UPDATE projects SET task_seq = 1001 WHERE id = $1', [projectId]);
    await db.query('ANALYZE');
  } finally {
    await db.end();
  }
  return { email, password, token, apiKey, userId, orgId, projectId, taskId };
}
