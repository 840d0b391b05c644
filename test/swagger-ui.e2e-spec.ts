import { existsSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { MailCapture } from './support/mail-capture';
import { createOrg } from './support/pt-helpers';
import { TEXT } from './support/upload-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { registerUser, SignedInUser, uniqueEmail } from './support/users';

// Swagger UI in a real browser (Debian's Chromium, driven by playwright-core): the Authorize
// dialog's OAuth2 password flow and what it keeps across a reload, the error examples under each
// status, a file upload, then the routes of invitations, password reset, sessions and API keys
// tried the way an explorer tries them — Try it out, fill in, Execute — and their answers read
// off the page. Skipped, with a note, where Chromium is not installed (`.ci/run` installs it and
// sets REQUIRE_BROWSER=1, so that CI never skips it).

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.REQUIRE_BROWSER === '1') {
  throw new Error(`REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}`);
}
if (!available) console.warn(`Swagger UI browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

(available ? describe : describe.skip)('Swagger UI in Chromium', () => {
  let t: TestApp;
  let mail: MailCapture;
  let browser: Browser;
  let page: Page;
  let owner: SignedInUser;
  let base: string;

  beforeAll(async () => {
    mail = await new MailCapture().start();
    t = await createTestApp({
      env: { SMTP_URL: mail.url, APP_URL: 'https://app.example.test', JOB_POLL_INTERVAL_MS: '500' },
    });
    const address = t.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    owner = await registerUser(t, { name: 'Swagger Owner' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage();
    await page.goto(`${base}/docs`);
    await page.waitForSelector('.opblock');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await mail?.stop();
  });

  /** Every key of a JSON value, at any depth. */
  const keysOf = (value: unknown): string[] =>
    value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)])
      : [];

  /** One operation's block on the page. */
  const operationBlock = (method: string, path: string): Locator =>
    page
      .locator(`.opblock-${method}`)
      .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
      .first();

  /** Try it out → fill → Execute on one operation; its live response's status and body. */
  async function tryOperation(
    method: string,
    path: string,
    params: Record<string, string> = {},
    body?: object,
  ): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
    const block = operationBlock(method, path);
    await block.locator('.opblock-summary').click();
    // Try it out stays on once turned on (its button then reads Cancel)
    await block.locator('button.try-out__btn').first().waitFor();
    const tryOut = block.locator('button.try-out__btn:not(.cancel):not(.reset)');
    // The block renders its body after the click: wait for its Try-it-out (or Cancel) button first.
    await block.locator('button.try-out__btn').first().waitFor();
    if (await tryOut.count()) await tryOut.click();
    for (const [name, value] of Object.entries(params)) {
      await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
    }
    if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body));
    await block.locator('button.execute').click();
    const cell = block.locator('.live-responses-table .response .response-col_status').first();
    await cell.waitFor();
    const status = Number((await cell.innerText()).trim());
    // rendered together with the status; absent for a 204
    const bodyCell = block.locator('.live-responses-table .response-col_description .highlight-code pre');
    const text = (await bodyCell.count()) ? await bodyCell.first().innerText() : '';
    await block.locator('.opblock-summary').click();
    return { status, body: text ? JSON.parse(text) : undefined };
  }

  /** Try it out → fill → Execute on an operation whose answer is not JSON; its live status. */
  async function tryOperationStatus(method: string, path: string, params: Record<string, string>): Promise<number> {
    const block = operationBlock(method, path);
    await block.locator('.opblock-summary').click();
    const tryOut = block.locator('button.try-out__btn:not(.cancel):not(.reset)');
    // The block renders its body after the click: wait for its Try-it-out (or Cancel) button first.
    await block.locator('button.try-out__btn').first().waitFor();
    if (await tryOut.count()) await tryOut.click();
    for (const [name, value] of Object.entries(params)) {
      await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
    }
    await block.locator('button.execute').click();
    const cell = block.locator('.live-responses-table .response .response-col_status').first();
    await cell.waitFor();
    const status = Number((await cell.innerText()).trim());
    await block.locator('.opblock-summary').click();
    return status;
  }

  it('signs in through the Authorize dialog (OAuth2 password flow)', async () => {
    await page.click('button.authorize');
    const dialog = page.locator('.auth-container').filter({ hasText: 'oauth2' });
    await dialog.locator('input#oauth_username').fill(owner.email);
    await dialog.locator('input#oauth_password').fill(owner.password);
    await dialog.locator('button.authorize').click();
    await dialog.getByText('Authorized').waitFor();
    await page.locator('.modal-ux button.btn-done').first().click();
    const me = await tryOperation('get', '/api/v1/auth/me');
    expect(me).toMatchObject({ status: 200, body: { data: { email: owner.email } } });
  }, 60_000);

  it('keeps the access token across a reload, never the password, the refresh token or an API key', async () => {
    const saved = (await page.evaluate<string | null>("localStorage.getItem('authorized')")) ?? '';
    expect(JSON.parse(saved)).toMatchObject({ oauth2: { token: { access_token: expect.any(String) } } });
    expect(saved).not.toContain(owner.password);
    expect(keysOf(JSON.parse(saved))).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(password|refresh_token|clientSecret)$/)]),
    );

    await page.reload();
    await page.waitForSelector('.opblock');
    const me = await tryOperation('get', '/api/v1/auth/me');
    expect(me).toMatchObject({ status: 200, body: { data: { email: owner.email } } });
    const afterReload = (await page.evaluate<string | null>("localStorage.getItem('authorized')")) ?? '';
    expect(afterReload).not.toContain(owner.password);
    expect(afterReload).toContain('access_token');

    // What an earlier Swagger UI left in localStorage is cleaned when the page loads.
    const legacy = JSON.parse(afterReload) as Record<string, Record<string, unknown>>;
    legacy.oauth2.password = owner.password;
    legacy.oauth2.clientSecret = 'a-client-secret';
    legacy.oauth2.token = { ...(legacy.oauth2.token as object), refresh_token: 'a-refresh-token' };
    legacy.apiKey = { name: 'apiKey', value: 'tl_0123456789ab_a-long-lived-secret' };
    await page.evaluate(`localStorage.setItem('authorized', ${JSON.stringify(JSON.stringify(legacy))})`);
    await page.reload();
    await page.waitForSelector('.opblock');
    const cleaned = (await page.evaluate<string | null>("localStorage.getItem('authorized')")) ?? '';
    expect(cleaned).not.toContain(owner.password);
    expect(cleaned).not.toMatch(/a-client-secret|a-refresh-token|tl_0123456789ab/);
    expect(cleaned).toContain('access_token');
  }, 60_000);

  it('shows under each error status an example of that status and its code', async () => {
    const expected: [method: string, path: string, codes: Record<string, string[]>][] = [
      [
        'get',
        '/api/v1/tasks/{taskId}',
        { 400: ['VALIDATION_FAILED'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'], 429: ['RATE_LIMITED'] },
      ],
      [
        'post',
        '/api/v1/projects/{projectId}/tasks',
        {
          400: ['VALIDATION_FAILED', 'MALFORMED_BODY'],
          403: ['FORBIDDEN'],
          409: ['CONFLICT', 'IDEMPOTENCY_IN_PROGRESS'],
          422: ['IDEMPOTENCY_KEY_REUSED'],
          500: ['INTERNAL'],
          503: ['UNAVAILABLE'],
        },
      ],
      ['patch', '/api/v1/tasks/{taskId}', { 412: ['PRECONDITION_FAILED'] }],
    ];
    for (const [method, path, codes] of expected) {
      const block = operationBlock(method, path);
      await block.locator('.opblock-summary').click();
      const rows = block.locator('.responses-inner tr.response');
      await rows.first().waitFor();
      const statuses = (await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-code') ?? ''))).filter(
        (status) => Number(status) >= 400,
      );
      expect(statuses).toEqual(expect.arrayContaining(Object.keys(codes)));
      for (const status of statuses) {
        const row = block.locator(`.responses-inner tr.response[data-code="${status}"]`);
        const select = row.locator('select.examples-select-element');
        const names = await select.locator('option').evaluateAll((all) => all.map((o) => o.getAttribute('value')));
        if (codes[status]) expect(names).toEqual(codes[status]);
        for (const name of names) {
          await select.selectOption(name!);
          const shown = JSON.parse(await row.locator('.highlight-code pre').first().innerText()) as {
            error: { status: number; code: string };
          };
          expect({ path, status, shown: shown.error }).toMatchObject({
            path,
            status,
            shown: { status: Number(status), code: name },
          });
        }
      }
      await block.locator('.opblock-summary').click();
    }
  }, 60_000);

  it('uploads a file through Try it out and downloads it', async () => {
    const orgId = await createOrg(t, owner, 'Swagger Files');
    const auth = { Authorization: `Bearer ${owner.accessToken}` };
    const project = await t.http().post(`/api/v1/orgs/${orgId}/projects`).set(auth).send({ key: 'UP', name: 'Up' });
    const task = await t
      .http()
      .post(`/api/v1/projects/${project.body.data.id}/tasks`)
      .set(auth)
      .send({ title: 'Attach here' });
    const taskId = task.body.data.id as string;

    const block = operationBlock('post', '/api/v1/tasks/{taskId}/attachments');
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    await block.locator('tr[data-param-name="taskId"] input').fill(taskId);
    await block
      .locator('input[type="file"]')
      .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: TEXT });
    await block.locator('button.execute').click();
    const cell = block.locator('.live-responses-table .response .response-col_status').first();
    await cell.waitFor();
    expect(Number((await cell.innerText()).trim())).toBe(201);
    const body = JSON.parse(
      await block.locator('.live-responses-table .response-col_description .highlight-code pre').first().innerText(),
    ) as { data: { id: string; filename: string; size: number; contentType: string } };
    expect(body.data).toMatchObject({ filename: 'notes.txt', size: TEXT.length, contentType: 'text/plain' });
    await block.locator('.opblock-summary').click();

    const stored = await t.http().get(`/api/v1/attachments/${body.data.id}/content`).set(auth).expect(200);
    expect(Buffer.from(stored.text ?? stored.body)).toEqual(TEXT);
    const download = await tryOperationStatus('get', '/api/v1/attachments/{attachmentId}/content', {
      attachmentId: body.data.id,
    });
    expect(download).toBe(200);
  }, 60_000);

  it('invites, lists, previews the link from the mail and revokes', async () => {
    const org = await tryOperation('post', '/api/v1/orgs', {}, { name: 'Swagger Org' });
    expect(org.status).toBe(201);
    const orgId = (org.body!.data as { id: string }).id;
    const email = uniqueEmail('swagger');

    const created = await tryOperation(
      'post',
      '/api/v1/orgs/{orgId}/invitations',
      { orgId },
      { email, role: 'member' },
    );
    expect(created).toMatchObject({ status: 201, body: { data: { email, role: 'member', status: 'pending' } } });
    const invitationId = (created.body!.data as { id: string }).id;
    const conflict = await tryOperation(
      'post',
      '/api/v1/orgs/{orgId}/invitations',
      { orgId },
      { email, role: 'member' },
    );
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });

    const list = await tryOperation('get', '/api/v1/orgs/{orgId}/invitations', { orgId });
    expect(list.status).toBe(200);
    expect((list.body!.data as { id: string }[]).map((i) => i.id)).toEqual([invitationId]);
    expect((await tryOperation('get', '/api/v1/invitations/{invitationId}', { invitationId })).status).toBe(200);

    const link = (await mail.waitFor(email)).links.find((l) => l.includes('/invitations/accept?token='))!;
    const token = new URL(link).searchParams.get('token')!;
    const preview = await tryOperation('get', '/api/v1/invitations/preview', { token });
    expect(preview).toMatchObject({
      status: 200,
      body: { data: { orgName: 'Swagger Org', invitedByName: 'Swagger Owner', role: 'member', email } },
    });

    expect((await tryOperation('delete', '/api/v1/invitations/{invitationId}', { invitationId })).status).toBe(204);
    expect((await tryOperation('get', '/api/v1/invitations/preview', { token })).status).toBe(404);
  }, 90_000);

  it('asks for a password reset and shows a refused confirmation', async () => {
    const requested = await tryOperation('post', '/api/v1/auth/password-reset', {}, { email: owner.email });
    expect(requested).toMatchObject({ status: 202, body: { data: { message: expect.any(String) } } });
    const refused = await tryOperation(
      'post',
      '/api/v1/auth/password-reset/confirm',
      {},
      { token: 'x', newPassword: 'short' },
    );
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  }, 60_000);

  it('lists the sessions, the browser’s own marked current, and ends another one', async () => {
    const sessions = await tryOperation('get', '/api/v1/auth/sessions');
    expect(sessions.status).toBe(200);
    const list = sessions.body!.data as { id: string; current: boolean; userAgent: string | null }[];
    const current = list.find((s) => s.current);
    expect(current?.userAgent).toContain('Chrome');
    const other = list.find((s) => !s.current)!; // the session registerUser started
    expect((await tryOperation('delete', '/api/v1/auth/sessions/{sessionId}', { sessionId: other.id })).status).toBe(
      204,
    );
    const after = (await tryOperation('get', '/api/v1/auth/sessions')).body!.data as { id: string }[];
    expect(after.map((s) => s.id)).toEqual([current!.id]);
  }, 60_000);

  it('creates an API key, authorizes with it under apiKey, and acts as the integration', async () => {
    const org = await tryOperation('post', '/api/v1/orgs', {}, { name: 'Swagger Keys' });
    const orgId = (org.body!.data as { id: string }).id;
    const created = await tryOperation(
      'post',
      '/api/v1/orgs/{orgId}/api-keys',
      { orgId },
      { name: 'UI', role: 'viewer' },
    );
    expect(created).toMatchObject({ status: 201, body: { data: { name: 'UI', role: 'viewer' } } });
    const { token } = created.body!.data as { token: string };
    expect(token).toMatch(/^tl_[0-9a-f]{12}_/);

    // Sign out of the OAuth2 flow (it would be sent first), then paste the key under apiKey.
    await page.click('button.authorize');
    const oauth = page.locator('.auth-container').filter({ hasText: 'oauth2' });
    await oauth.locator('button.authorize', { hasText: 'Logout' }).click();
    const apiKey = page.locator('.auth-container').filter({ hasText: 'apiKey' });
    await apiKey.locator('input').fill(token);
    await apiKey.locator('button.authorize').click();
    await apiKey.getByText('Authorized').waitFor();
    await page.locator('.modal-ux button.btn-done').first().click();
    // Used, and not written down: a reload will need the key pasted again.
    const stored = (await page.evaluate<string | null>("localStorage.getItem('authorized')")) ?? '';
    expect(stored).not.toContain(token);

    const orgs = await tryOperation('get', '/api/v1/orgs');
    expect(orgs.status).toBe(200);
    expect((orgs.body!.data as { id: string }[]).map((o) => o.id)).toEqual([orgId]);
    // Where the document does not list apiKey, Swagger UI does not send the key at all.
    expect((await tryOperation('get', '/api/v1/orgs/{orgId}/api-keys', { orgId })).status).toBe(401);
    expect((await tryOperation('get', '/api/v1/orgs/{orgId}/members', { orgId })).status).toBe(200);
    expect(await tryOperation('get', '/api/v1/auth/me')).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED' } },
    });
  }, 60_000);
});
