import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expectData } from './support/envelope';
import { createProjectTask, createRoleOrg, RoleOrg } from './support/pt-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { MULTIPART, PNG, sendFile } from './support/upload-helpers';
import { createAdmin, registerUser, SignedInUser } from './support/users';

// Every upload route decides 400, 401, 403, 404 and 413 from the path, the headers and the caller
// alone: the answer comes while the client has sent the request head and not one byte of the 4 MB
// body it announced.

interface EarlyAnswer {
  status: number;
  body: { error?: { code: string; details?: { field: string }[] } };
}

const FOUR_MB = 4 * 1024 * 1024;

describe('upload routes answer before reading the body', () => {
  let t: TestApp;
  let org: RoleOrg;
  let taskId: string;
  let otherTaskId: string;
  let admin: SignedInUser;
  let someone: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    org = await createRoleOrg(t);
    admin = await createAdmin(t);
    someone = await registerUser(t, { name: 'Someone Else' });
    taskId = (await createProjectTask(t, org.users.owner, org.orgId)).taskId;
    const other = await createRoleOrg(t, 'Other Org');
    otherTaskId = (await createProjectTask(t, other.users.owner, other.orgId)).taskId;
  });
  afterAll(() => t.close());

  /**
   * Sends the head of a request announcing a 4 MB multipart body, and nothing more; resolves
   * with the response if one arrives within 3 s, without the body ever being sent.
   */
  function answerBeforeBody(
    method: 'POST' | 'PUT',
    url: string,
    user: SignedInUser | undefined,
    headers: Record<string, string> = {},
  ): Promise<EarlyAnswer> {
    const { port } = t.server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${method} ${url}: no answer before the body was sent`));
      }, 3000);
      let received = Buffer.alloc(0);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const text = received.toString('utf8');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (received.length < end + 4 + length) return;
        clearTimeout(timer);
        socket.destroy();
        const body = text.slice(end + 4, end + 4 + length);
        resolve({ status: Number(text.slice(9, 12)), body: body ? JSON.parse(body) : {} });
      });
      const head: Record<string, string> = {
        Host: '127.0.0.1',
        'Content-Type': MULTIPART,
        'Content-Length': String(FOUR_MB),
        ...(user ? { Authorization: `Bearer ${user.accessToken}` } : {}),
        ...headers,
      };
      const lines = [`${method} ${url} HTTP/1.1`, ...Object.entries(head).map(([name, value]) => `${name}: ${value}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  }

  const attachments = (id: string) => `/api/v1/tasks/${id}/attachments`;
  const avatar = (id: string) => `/api/v1/users/${id}/avatar`;
  const UNKNOWN = '00000000-0000-4000-8000-000000000000';

  describe('POST /tasks/{taskId}/attachments', () => {
    it.each([
      [
        'a task id that is not a UUID',
        () => attachments('not-a-uuid'),
        () => org.users.member,
        400,
        'VALIDATION_FAILED',
      ],
      ['no token', () => attachments(taskId), () => undefined, 401, 'UNAUTHENTICATED'],
      ['a viewer', () => attachments(taskId), () => org.users.viewer, 403, 'FORBIDDEN'],
      ['an outsider', () => attachments(taskId), () => org.users.outsider, 404, 'NOT_FOUND'],
      ["another org's task", () => attachments(otherTaskId), () => org.users.owner, 404, 'NOT_FOUND'],
      ['an unknown task', () => attachments(UNKNOWN), () => org.users.owner, 404, 'NOT_FOUND'],
    ])('%s', async (_label, url, user, status, code) => {
      const answer = await answerBeforeBody('POST', url(), user());
      expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status, code });
      if (status === 400)
        expect(answer.body.error?.details).toEqual([{ field: 'taskId', message: 'taskId must be a UUID' }]);
    });

    it('a body announced larger than UPLOAD_MAX_BYTES: 413 at once', async () => {
      const answer = await answerBeforeBody('POST', attachments(taskId), org.users.member, {
        'Content-Length': String(50 * 1024 * 1024),
      });
      expect({ status: answer.status, code: answer.body.error?.code }).toEqual({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      });
    });
  });

  describe('PUT /users/{id}/avatar', () => {
    it.each([
      ['an id that is not a UUID', () => avatar('not-a-uuid'), () => someone, 400, 'VALIDATION_FAILED'],
      ['no token', () => avatar(someone.id), () => undefined, 401, 'UNAUTHENTICATED'],
      ["someone else's avatar", () => avatar(admin.id), () => someone, 404, 'NOT_FOUND'],
      ['an admin, for a user that does not exist', () => avatar(UNKNOWN), () => admin, 404, 'NOT_FOUND'],
    ])('%s', async (_label, url, user, status, code) => {
      const answer = await answerBeforeBody('PUT', url(), user());
      expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status, code });
    });

    it('a body announced larger than 2 MiB: 413 at once', async () => {
      const answer = await answerBeforeBody('PUT', avatar(someone.id), someone);
      expect({ status: answer.status, code: answer.body.error?.code }).toEqual({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      });
    });

    it('the same requests with a body are answered the same, and the allowed ones go through', async () => {
      const put = (id: string, user: SignedInUser) => sendFile(t, 'put', avatar(id), user, PNG, 'a.png', 'image/png');
      expect((await put(admin.id, someone)).status).toBe(404);
      expectData(await put(someone.id, someone));
      expectData(await put(someone.id, admin));
    });
  });
});
