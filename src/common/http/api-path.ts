/** Where the API lives: `/api` (the global prefix) and URI version `v1`, as app.setup.ts configures them. */
export const API_PREFIX = 'api';
export const API_VERSION = '1';

/** The path of a resource under the API, from its segments: `apiPath('tasks', id)` → `/api/v1/tasks/{id}`. */
export function apiPath(...segments: string[]): string {
  return `/${API_PREFIX}/v${API_VERSION}/${segments.map(encodeURIComponent).join('/')}`;
}
