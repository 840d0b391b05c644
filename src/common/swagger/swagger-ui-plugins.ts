/**
 * Swagger UI plugins. Nest writes `swaggerOptions` into /docs/swagger-ui-init.js with each
 * function's source text (`Function.prototype.toString`), so these run in the browser: they may
 * use only the page's globals (`localStorage`, `SwaggerUIBundle`) and nothing from this module's
 * scope — no imports, no constants, no helpers from outside the function body.
 */

interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * `persistAuthorization` keeps the Authorize dialog's state in localStorage (key `authorized`)
 * so that a reload stays signed in. As Swagger UI writes it, the OAuth2 password flow's entry
 * holds the username and the password in clear text. This plugin rewrites the entry each time
 * Swagger UI saves it (and once at load, for what an earlier page left there) keeping what a
 * reload needs, the access token, and dropping the password, the client secret, the refresh
 * token (long-lived: a token thief could mint access tokens for 30 days) and API keys
 * (`apiKey`: long-lived secrets, pasted again after a reload). The bearer token pasted under
 * `bearer` is an access token and stays.
 */
export function keepTokensNotPasswords(): object {
  const storage = (globalThis as unknown as { localStorage: KeyValueStore }).localStorage;
  const scrub = (): void => {
    const saved = storage.getItem('authorized');
    if (!saved) return;
    let entries: unknown;
    try {
      entries = JSON.parse(saved);
    } catch {
      entries = undefined;
    }
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      storage.setItem('authorized', '{}');
      return;
    }
    const kept: Record<string, Record<string, unknown>> = {};
    for (const [name, value] of Object.entries(entries as Record<string, unknown>)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = Object.assign({}, value as Record<string, unknown>);
      // An API key (`tl_…`), under the apiKey scheme or pasted under bearer: long-lived, not kept.
      if (name === 'apiKey' || (typeof entry.value === 'string' && entry.value.startsWith('tl_'))) continue;
      delete entry.password;
      delete entry.clientSecret;
      if (entry.token && typeof entry.token === 'object') {
        const token = Object.assign({}, entry.token as Record<string, unknown>);
        delete token.refresh_token;
        entry.token = token;
      }
      kept[name] = entry;
    }
    storage.setItem('authorized', JSON.stringify(kept));
  };
  scrub();
  return {
    statePlugins: {
      auth: {
        wrapActions: {
          persistAuthorizationIfNeeded:
            (original: (...args: unknown[]) => unknown) =>
            (...args: unknown[]) => {
              const result = original(...args);
              scrub();
              return result;
            },
        },
      },
    },
  };
}

/** Swagger UI's own default plugin, which `plugins` would otherwise replace. */
export function downloadUrl(system: unknown): unknown {
  const bundle = (globalThis as unknown as { SwaggerUIBundle: { plugins: { DownloadUrl(s: unknown): unknown } } })
    .SwaggerUIBundle;
  return bundle.plugins.DownloadUrl(system);
}
