import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FileStorage } from '../src/storage/file-storage';
import { ProjectBody, TaskBody } from './support/bodies';
import {
  expectData,
  expectError,
  expectList,
  expectNoContent,
  expectUnauthenticated,
  expectValidationFailed,
  ISO_UTC,
  JSON_UTF8,
  UUID,
  walkPages,
} from './support/envelope';
import { requestId } from './support/orgs-helpers';
import {
  auditEvents,
  client,
  createOrg,
  createProjectTask,
  createRoleOrg,
  freshKey,
  RoleOrg,
} from './support/pt-helpers';
import { S3TestServer, startS3Server } from './support/s3-server';
import { createTestApp, TestApp } from './support/test-app';
import {
  errorOf,
  getBytes,
  BOUNDARY,
  DOCM,
  ODS_WITH_SCRIPTS,
  ODT_WITH_BASIC,
  DOCX,
  ELF,
  eventually,
  filePart,
  GIF,
  HTML,
  incomingFiles,
  JPEG,
  MULTIPART,
  multipartBody,
  MZ,
  OLE_DOC,
  openDocument,
  PDF,
  PLAIN_ZIP,
  PNG,
  PPTX,
  randomBinary,
  SCRIPT,
  sendFile,
  sendRaw,
  sha256,
  storedBytes,
  storedFiles,
  storedKeys,
  SVG,
  TEXT,
  webp,
  XLSX,
  XML,
} from './support/upload-helpers';
import { bearer, registerUser, SignedInUser } from './support/users';

// Attachments (API.md §11): multipart uploads typed by their bytes, downloads with Range and
// conditional requests, the stored files (never orphaned, never named by the client), roles
// and tenancy (§7), audit events (§12), with the envelope (§2) and status codes (§3). Every
// suite runs against both storage drivers: the local folder (UPLOAD_DIR) and an S3 bucket
// (s3rver in this process); the S3 driver's own cases come at the end.

interface AttachmentBody {
  id: string;
  taskId: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string;
  createdAt: string;
}

const ATTACHMENT_KEYS = ['contentType', 'createdAt', 'filename', 'id', 'sha256', 'size', 'taskId', 'uploadedBy'];

const taskAttachmentsUrl = (taskId: string): string => `/api/v1/tasks/${taskId}/attachments`;
const attachmentUrl = (id: string): string => `/api/v1/attachments/${id}`;
const contentUrl = (id: string): string => `/api/v1/attachments/${id}/content`;

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX_TYPE = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** A file of `size` bytes of plain text. */
const textOf = (size: number): Buffer => Buffer.alloc(size, 'abcdefghij\n');

describe.each(['local', 's3'] as const)('attachments (%s storage)', (driver) => {
  let s3: S3TestServer | undefined;
  let t: TestApp;
  let org: RoleOrg;
  let owner: SignedInUser;
  let project: ProjectBody;
  let task: TaskBody;
  let otherOwner: SignedInUser;
  let otherTask: TaskBody;

  beforeAll(async () => {
    s3 = driver === 's3' ? await startS3Server() : undefined;
    t = await createTestApp({ env: s3?.env });
    org = await createRoleOrg(t, 'Files Org');
    owner = org.users.owner;
    project = await createProject(owner, org.orgId);
    task = await createTask(owner, project.id);
    otherOwner = await registerUser(t, { name: 'Owner of B' });
    const otherOrgId = await createOrg(t, otherOwner, 'Org B');
    otherTask = await createTask(otherOwner, (await createProject(otherOwner, otherOrgId)).id);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  const as = (user: SignedInUser) => client(t, user);
  const stored = (): Promise<string[]> => storedKeys(t, 'attachments', s3);

  async function createProject(user: SignedInUser, orgId: string): Promise<ProjectBody> {
    const key = freshKey('F');
    return expectData<ProjectBody>(
      await as(user).post(`/api/v1/orgs/${orgId}/projects`, { key, name: `Project ${key}` }),
      201,
    );
  }

  async function createTask(user: SignedInUser, projectId: string): Promise<TaskBody> {
    return expectData<TaskBody>(
      await as(user).post(`/api/v1/projects/${projectId}/tasks`, { title: 'With files' }),
      201,
    );
  }

  const upload = (
    user: SignedInUser | undefined,
    bytes: Buffer,
    filename = 'file.bin',
    contentType = 'application/octet-stream',
    taskId = task.id,
    headers: Record<string, string> = {},
  ) => sendFile(t, 'post', taskAttachmentsUrl(taskId), user, bytes, filename, contentType, headers);

  async function uploadOk(
    user: SignedInUser,
    bytes: Buffer,
    filename = 'file.bin',
    taskId = task.id,
  ): Promise<AttachmentBody> {
    return expectData<AttachmentBody>(await upload(user, bytes, filename, 'application/octet-stream', taskId), 201);
  }

  /** A download (or any GET of the content), its body as raw bytes. */
  const download = (user: SignedInUser | undefined, id: string, headers: Record<string, string> = {}) =>
    getBytes(t, contentUrl(id), user, headers);

  const countRows = async (): Promise<number> => {
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM attachments');
    return n;
  };

  const storageKeyOf = async (id: string): Promise<string | undefined> => {
    const [row] = await t.dataSource.query('SELECT storage_key FROM attachments WHERE id = $1', [id]);
    return row?.storage_key;
  };

  /** Nothing was added: as many rows and stored files as before, and nothing left in incoming/. */
  async function expectNothingStored(before: { rows: number; files: string[] }): Promise<void> {
    expect(await countRows()).toBe(before.rows);
    expect(await stored()).toEqual(before.files);
    expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
  }

  const snapshot = async () => ({ rows: await countRows(), files: await stored() });

  // -------------------------------------------------------------------------------------------
  describe('POST /tasks/{taskId}/attachments: accepted types', () => {
    const accepted: [string, () => Buffer, string][] = [
      ['PNG', () => PNG, 'image/png'],
      ['JPEG', () => JPEG, 'image/jpeg'],
      ['GIF', () => GIF, 'image/gif'],
      ['WebP', webp, 'image/webp'],
      ['PDF', () => PDF, 'application/pdf'],
      ['plain text', () => TEXT, 'text/plain'],
      ['docx', () => DOCX, DOCX_TYPE],
      ['xlsx', () => XLSX, XLSX_TYPE],
      ['pptx', () => PPTX, PPTX_TYPE],
      ['odt', () => openDocument('text'), 'application/vnd.oasis.opendocument.text'],
      ['ods', () => openDocument('spreadsheet'), 'application/vnd.oasis.opendocument.spreadsheet'],
      ['odp', () => openDocument('presentation'), 'application/vnd.oasis.opendocument.presentation'],
    ];

    it.each(accepted)(
      'stores a %s file: 201, Location, its type from its bytes, sha256 and size',
      async (_, make, type) => {
        const bytes = make();
        // The client claims something else entirely: name and type are ignored for typing.
        const res = await upload(org.users.member, bytes, 'claimed.exe', 'application/x-msdownload');
        const attachment = expectData<AttachmentBody>(res, 201);
        expect(Object.keys(attachment).sort()).toEqual(ATTACHMENT_KEYS);
        expect(attachment).toEqual({
          id: expect.stringMatching(UUID),
          taskId: task.id,
          filename: 'claimed.exe',
          contentType: type,
          size: bytes.length,
          sha256: sha256(bytes),
          uploadedBy: org.users.member.id,
          createdAt: expect.stringMatching(ISO_UTC),
        });
        expect(res.headers.location).toBe(contentUrl(attachment.id));

        // Stored under attachments/xx/<uuid>, byte for byte; nothing left behind in incoming/.
        const key = await storageKeyOf(attachment.id);
        expect(key).toMatch(/^attachments\/[0-9a-f]{2}\/[0-9a-f-]{36}$/);
        expect((await storedBytes(t, s3, key!)).equals(bytes)).toBe(true);
        expect(await stored()).toContain(key);
        expect(incomingFiles(t)).toEqual([]);

        // And it downloads as what it is.
        const down = await download(org.users.viewer, attachment.id).expect(200);
        expect(down.headers['content-type']).toBe(type);
        expect((down.body as Buffer).equals(bytes)).toBe(true);
      },
    );

    it('types a PNG sent as text/html named page.html as image/png, a text file named x.png as text/plain', async () => {
      const png = await expectData<AttachmentBody>(await upload(owner, PNG, 'page.html', 'text/html'), 201);
      expect(png.contentType).toBe('image/png');
      const text = await expectData<AttachmentBody>(await upload(owner, TEXT, 'x.png', 'image/png'), 201);
      expect(text.contentType).toBe('text/plain');
    });

    it('a JSON body is 415 UNSUPPORTED_MEDIA_TYPE, and so is a text/plain body', async () => {
      const before = await snapshot();
      const json = await as(owner).post(taskAttachmentsUrl(task.id), { file: 'aGVsbG8=' });
      expectError(json, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const text = await sendRaw(t, 'post', taskAttachmentsUrl(task.id), TEXT, 'text/plain', owner);
      expectError(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectNothingStored(before);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('415: refused by content', () => {
    const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
    const refused: [string, () => Buffer, string, string][] = [
      ['HTML renamed .png', () => HTML, 'photo.png', 'image/png'],
      [
        'HTML after leading whitespace',
        () => Buffer.concat([Buffer.from('\n\n   \t'), HTML]),
        'photo.png',
        'image/png',
      ],
      ['HTML after a UTF-8 BOM', () => Buffer.concat([BOM, HTML]), 'photo.png', 'image/png'],
      ['a lower-case <html> fragment', () => Buffer.from('<html><body>hi</body></html>'), 'a.txt', 'text/plain'],
      ['a <script> tag', () => Buffer.from('<script>alert(1)</script>'), 'a.txt', 'text/plain'],
      ['SVG', () => SVG, 'logo.svg', 'image/svg+xml'],
      ['SVG renamed .png', () => SVG, 'logo.png', 'image/png'],
      ['XML (<?xml)', () => XML, 'note.txt', 'text/plain'],
      ['an ELF executable', () => ELF, 'tool.pdf', 'application/pdf'],
      ['an MZ executable', () => MZ, 'setup.jpg', 'image/jpeg'],
      ['a #!/bin/sh script', () => SCRIPT, 'notes.txt', 'text/plain'],
      ['a script after a BOM', () => Buffer.concat([BOM, SCRIPT]), 'notes.txt', 'text/plain'],
      ['a .docm (Office Open XML with vbaProject.bin)', () => DOCM, 'report.docx', DOCX_TYPE],
      [
        'an .odt with StarBasic macros (Basic/)',
        () => ODT_WITH_BASIC,
        'notes.odt',
        'application/vnd.oasis.opendocument.text',
      ],
      [
        'an .ods with Python scripts (Scripts/)',
        () => ODS_WITH_SCRIPTS,
        'sheet.ods',
        'application/vnd.oasis.opendocument.spreadsheet',
      ],
      ['a legacy OLE .doc', () => OLE_DOC, 'old.doc', 'application/msword'],
      ['a plain zip', () => PLAIN_ZIP, 'archive.zip', 'application/zip'],
      ['random binary', () => randomBinary(), 'blob.png', 'image/png'],
      ['invalid UTF-8', () => Buffer.from([0x61, 0x62, 0xc3, 0x28, 0x63]), 'a.txt', 'text/plain'],
    ];

    it.each(refused)('refuses %s: 415, no row, no file', async (_, make, filename, claimed) => {
      const before = await snapshot();
      const res = await upload(org.users.member, make(), filename, claimed);
      const error = expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(error.message).toMatch(/accepted/);
      await expectNothingStored(before);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('malformed and invalid multipart bodies', () => {
    const post = (body: Buffer | string, contentType: string | undefined, user = owner) =>
      sendRaw(t, 'post', taskAttachmentsUrl(task.id), Buffer.from(body), contentType, user);

    const malformed: [string, () => Buffer, string | undefined][] = [
      ['no boundary in the Content-Type', () => multipartBody([filePart(TEXT)]), 'multipart/form-data'],
      [
        'a boundary that is not the one used',
        () => multipartBody([filePart(TEXT)]),
        'multipart/form-data; boundary=not-the-one',
      ],
      ['a body cut off in the middle of the file', () => multipartBody([filePart(TEXT)]).subarray(0, 200), MULTIPART],
      [
        'a body with no closing boundary',
        () => multipartBody([filePart(TEXT)]).subarray(0, -(BOUNDARY.length + 6)),
        MULTIPART,
      ],
      ['garbage', () => randomBinary(512), MULTIPART],
      [
        'a part header without a colon',
        () =>
          Buffer.from(
            `--${BOUNDARY}\r\nContent-Disposition form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--${BOUNDARY}--\r\n`,
          ),
        MULTIPART,
      ],
    ];

    it.each(malformed)('%s → 400 MALFORMED_BODY, nothing stored', async (_, make, contentType) => {
      const before = await snapshot();
      const res = await post(make(), contentType);
      expectError(res, 400, 'MALFORMED_BODY');
      await expectNothingStored(before);
    });

    it('a file in another field is 400 naming that field', async () => {
      const res = await post(multipartBody([{ ...filePart(PNG, 'a.png'), name: 'upload' }]), MULTIPART);
      expectValidationFailed(res, ['upload']);
    });

    it('two files is 400 naming file, and neither is kept', async () => {
      const before = await snapshot();
      const res = await post(multipartBody([filePart(PNG, 'a.png'), filePart(TEXT, 'b.txt')]), MULTIPART);
      expectValidationFailed(res, ['file']);
      await expectNothingStored(before);
    });

    it('an extra text field is 400 naming it, and the file is not kept', async () => {
      const before = await snapshot();
      const res = await post(multipartBody([filePart(PNG, 'a.png'), { name: 'note', body: 'hello' }]), MULTIPART);
      expectValidationFailed(res, ['note']);
      await expectNothingStored(before);
    });

    it('a body without any part, or with only a text field called file, is 400 naming file', async () => {
      expectValidationFailed(await post(Buffer.from(`--${BOUNDARY}--\r\n`), MULTIPART), ['file']);
      // `file` as a plain field (no filename) is no file: busboy reports it as a field.
      const res = await post(multipartBody([{ name: 'file', body: 'just text' }]), MULTIPART);
      expectValidationFailed(res, ['file']);
    });

    it('no body at all is 400 naming file', async () => {
      const res = await t.http().post(taskAttachmentsUrl(task.id)).set(bearer(owner.accessToken));
      expectValidationFailed(res, ['file']);
    });

    it('an empty file is 400 naming file, and nothing is stored', async () => {
      const before = await snapshot();
      const res = await post(multipartBody([filePart(Buffer.alloc(0), 'empty.txt', 'text/plain')]), MULTIPART);
      const error = expectValidationFailed(res, ['file']);
      expect(error.details![0].message).toMatch(/empty/);
      await expectNothingStored(before);
    });

    it('too many fields, too many parts, a long field name or a long field value is 413', async () => {
      const before = await snapshot();
      const fields = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `f${i}`, body: 'x' }));
      for (const parts of [
        [...fields(5), filePart(TEXT)], // 5 fields > 4
        [filePart(TEXT), ...fields(5)], // 6 parts > 5
        [{ name: 'x'.repeat(101), body: 'v' }, filePart(TEXT)],
        [{ name: 'note', body: 'v'.repeat(1025) }, filePart(TEXT)],
      ]) {
        const res = await post(multipartBody(parts), MULTIPART);
        expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      }
      await expectNothingStored(before);
    });

    it('a part with more header lines than the limit is never a 500 (the extra lines are ignored)', async () => {
      const extra = Array.from({ length: 30 }, (_, i) => `X-Extra-${i}: ${i}\r\n`).join('');
      const body = Buffer.concat([
        Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="h.txt"\r\n${extra}\r\n`,
          'utf8',
        ),
        TEXT,
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]);
      const res = await post(body, MULTIPART);
      const attachment = expectData<AttachmentBody>(res, 201);
      expect(attachment).toMatchObject({ filename: 'h.txt', size: TEXT.length, sha256: sha256(TEXT) });
    });

    it('a part without a name is 400 MALFORMED_BODY', async () => {
      const body = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--${BOUNDARY}--\r\n`);
      const res = await post(body, MULTIPART);
      expectError(res, 400, 'MALFORMED_BODY');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('413: UPLOAD_MAX_BYTES', () => {
    let smallS3: S3TestServer | undefined;
    let small: TestApp;
    let smallOwner: SignedInUser;
    let smallTask: TaskBody;

    beforeAll(async () => {
      smallS3 = driver === 's3' ? await startS3Server() : undefined;
      small = await createTestApp({ env: { ...smallS3?.env, UPLOAD_MAX_BYTES: '1024' } });
      smallOwner = await registerUser(small, { name: 'Small' });
      const orgId = await createOrg(small, smallOwner, 'Small Org');
      const key = freshKey('S');
      const res = await small
        .http()
        .post(`/api/v1/orgs/${orgId}/projects`)
        .set(bearer(smallOwner.accessToken))
        .send({ key, name: 'Small project' });
      const projectId = expectData<ProjectBody>(res, 201).id;
      const taskRes = await small
        .http()
        .post(`/api/v1/projects/${projectId}/tasks`)
        .set(bearer(smallOwner.accessToken))
        .send({ title: 'Small task' });
      smallTask = expectData<TaskBody>(taskRes, 201);
    }, 60_000);
    afterAll(async () => {
      await small?.close();
      await smallS3?.stop();
    });

    const rows = async (): Promise<number> =>
      (await small.dataSource.query('SELECT count(*)::int AS n FROM attachments'))[0].n;

    it('a file of exactly UPLOAD_MAX_BYTES is stored', async () => {
      const bytes = textOf(1024);
      const res = await sendFile(small, 'post', taskAttachmentsUrl(smallTask.id), smallOwner, bytes, 'max.txt');
      expect(expectData<AttachmentBody>(res, 201)).toMatchObject({ size: 1024, sha256: sha256(bytes) });
    });

    it.each([1025, 64 * 1024])('a file of %i bytes is 413 PAYLOAD_TOO_LARGE: no row, no file', async (size) => {
      const before = { rows: await rows(), files: await storedKeys(small, 'attachments', smallS3) };
      const res = await sendFile(small, 'post', taskAttachmentsUrl(smallTask.id), smallOwner, textOf(size), 'big.txt');
      const error = expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(error.message).toMatch(/1024 bytes/);
      expect(await rows()).toBe(before.rows);
      expect(await storedKeys(small, 'attachments', smallS3)).toEqual(before.files);
      expect(await eventually(() => incomingFiles(small).length === 0)).toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  // The S3 driver's counterpart, a store that cannot be reached, is with the S3 cases below.
  (driver === 'local' ? describe : describe.skip)('an upload whose file cannot be stored', () => {
    let broken: TestApp;
    let dir: string;

    beforeAll(async () => {
      // UPLOAD_DIR/attachments is a regular file: moving an upload into place fails.
      dir = mkdtempSync(join(tmpdir(), 'tasklane-broken-'));
      writeFileSync(join(dir, 'attachments'), 'not a folder');
      broken = await createTestApp({ env: { UPLOAD_DIR: dir } });
    }, 60_000);
    afterAll(async () => {
      await broken.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('is a 500 without internals, and leaves no row, no audit event and no temporary file', async () => {
      const user = await registerUser(broken, { name: 'Broken' });
      const orgId = await createOrg(broken, user, 'Broken Org');
      const key = freshKey('B');
      const projectRes = await broken
        .http()
        .post(`/api/v1/orgs/${orgId}/projects`)
        .set(bearer(user.accessToken))
        .send({ key, name: 'Broken project' });
      const taskRes = await broken
        .http()
        .post(`/api/v1/projects/${expectData<ProjectBody>(projectRes, 201).id}/tasks`)
        .set(bearer(user.accessToken))
        .send({ title: 'Broken task' });
      const brokenTask = expectData<TaskBody>(taskRes, 201);

      const id = requestId('att-broken');
      const res = await sendFile(broken, 'post', taskAttachmentsUrl(brokenTask.id), user, PNG, 'a.png', 'image/png', {
        'X-Request-Id': id,
      });
      const error = expectError(res, 500, 'INTERNAL');
      expect(JSON.stringify(error)).not.toMatch(/ENOTDIR|EEXIST|attachments\/|tasklane-broken/);
      expect((await broken.dataSource.query('SELECT count(*)::int AS n FROM attachments'))[0].n).toBe(0);
      expect(await broken.dataSource.query('SELECT 1 FROM audit_events WHERE request_id = $1', [id])).toEqual([]);
      expect(await eventually(() => incomingFiles(broken).length === 0)).toBe(true);
      expect(readFileSync(join(dir, 'attachments'), 'utf8')).toBe('not a folder');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('filenames', () => {
    /** The filename* value of a Content-Disposition, decoded, and the ASCII fallback. */
    function disposition(header: string): { fallback: string; exact: string } {
      const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''(\S+)$/.exec(header);
      expect(match).not.toBeNull();
      expect(match![1]).toMatch(/^[\x20-\x7e]*$/);
      expect(match![2]).toMatch(/^[A-Za-z0-9%!._~-]+$/); // RFC 8187 attr-chars and pct-encoded only
      return { fallback: match![1], exact: decodeURIComponent(match![2]) };
    }

    async function roundTrip(sent: string): Promise<{ attachment: AttachmentBody; fallback: string; exact: string }> {
      const attachment = await uploadOk(owner, TEXT, sent);
      const down = await download(owner, attachment.id).expect(200);
      const names = disposition(down.headers['content-disposition']);
      expect(names.exact).toBe(attachment.filename);
      // The storage key is the server's, never the name.
      const key = await storageKeyOf(attachment.id);
      expect(key).toMatch(/^attachments\/[0-9a-f]{2}\/[0-9a-f-]{36}$/);
      return { attachment, ...names };
    }

    it.each([
      ['../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\win.ini', 'win.ini'],
      ['/absolute/path/report.txt', 'report.txt'],
    ])('%s is stored as %s', async (sent, expected) => {
      const { attachment, fallback } = await roundTrip(sent);
      expect(attachment.filename).toBe(expected);
      expect(fallback).toBe(expected);
      expect((await filesUnderUploadDir()).some((path) => path.includes('etc') || path.includes('passwd'))).toBe(false);
    });

    it('a path in filename* (RFC 5987, percent-encoded) is cut to its last segment too', async () => {
      const res = await postBody(
        multipartBody([{ ...filePart(TEXT, 'x.txt'), filenameStar: "UTF-8''..%2F..%2Fetc%2Fpasswd" }]),
      );
      expect(expectData<AttachmentBody>(res, 201).filename).toBe('passwd');
    });

    it('a%2fb stays literally a%2fb (never decoded), with % replaced in the ASCII fallback only', async () => {
      const { attachment, fallback, exact } = await roundTrip('a%2fb');
      expect(attachment.filename).toBe('a%2fb');
      expect(exact).toBe('a%2fb');
      expect(fallback).toBe('a_2fb');
      expect((await filesUnderUploadDir()).some((path) => path.includes('a%2fb') || path.endsWith('/b'))).toBe(false);
    });

    it('a unicode name comes back exactly in filename*, with an ASCII fallback in filename', async () => {
      const name = 'Résumé – 日本語 😀 (final).txt';
      const { attachment, fallback, exact } = await roundTrip(name);
      expect(attachment.filename).toBe(name);
      expect(exact).toBe(name);
      expect(fallback).toMatch(/^R_sum_ _ _+ _+ \(final\)\.txt$/);
    });

    it('control characters, U+202E and other bidi overrides are removed', async () => {
      const { attachment } = await roundTrip('invoice\u202Egpj.exe');
      expect(attachment.filename).toBe('invoicegpj.exe');
      // C0/C1 controls, zero-width and isolate characters, sent percent-encoded in filename*.
      const res = await postBody(
        multipartBody([
          {
            ...filePart(TEXT, 'fallback.txt'),
            filenameStar: "UTF-8''a%01b%7Fc%C2%85d%E2%80%8Be%E2%81%A6f%E2%80%AEg.txt",
          },
        ]),
      );
      const controls = expectData<AttachmentBody>(res, 201);
      expect(controls.filename).toBe('abcdefg.txt');
      // A raw control byte in the part header is a malformed header, not a crash.
      const raw = await postBody(multipartBody([filePart(TEXT, 'a\u0001b.txt')]));
      expectError(raw, 400, 'MALFORMED_BODY');
      // %0A in a multipart filename is a line feed (WHATWG escaping); it goes too.
      const lf = await roundTrip('line%0Abreak.txt');
      expect(lf.attachment.filename).toBe('linebreak.txt');
    });

    it('quotes and reserved characters are replaced; a name with nothing left gets one from the type', async () => {
      const quoted = await roundTrip('say %22hi%22 <now>.txt');
      expect(quoted.attachment.filename).toBe('say _hi_ _now_.txt');
      const dots = await uploadOk(owner, PNG, '...');
      expect(dots.filename).toBe('file.png');
      const con = await uploadOk(owner, TEXT, 'CON.txt');
      expect(con.filename).toBe('_CON.txt');
    });

    it('a name longer than 200 characters is cut, keeping its extension', async () => {
      const { attachment } = await roundTrip(`${'n'.repeat(300)}.pdf.txt`);
      expect([...attachment.filename]).toHaveLength(200);
      expect(attachment.filename.endsWith('.txt')).toBe(true);
    });

    const postBody = (body: Buffer) => sendRaw(t, 'post', taskAttachmentsUrl(task.id), body, MULTIPART, owner);

    /** Every stored key and every file in incoming/. */
    const filesUnderUploadDir = async (): Promise<string[]> => [...(await stored()), ...incomingFiles(t)];
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /attachments/{id}/content', () => {
    const bytes = Buffer.from('0123456789abcdefghij', 'utf8'); // 20 bytes of text
    let attachment: AttachmentBody;

    beforeAll(async () => {
      attachment = await uploadOk(org.users.member, bytes, 'digits.txt');
    });

    it('sends the exact bytes with the contract headers', async () => {
      const res = await download(org.users.viewer, attachment.id).expect(200);
      expect((res.body as Buffer).equals(bytes)).toBe(true);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.headers['content-length']).toBe('20');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="digits.txt"; filename*=UTF-8''digits.txt`);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers.etag).toBe(`"${sha256(bytes)}"`);
      expect(res.headers['accept-ranges']).toBe('bytes');
      expect(res.headers['content-security-policy']).toMatch(/sandbox/);
      expect(typeof res.headers['x-request-id']).toBe('string');
    });

    it.each([
      ['bytes=0-3', 0, 3],
      ['bytes=-4', 16, 19],
      ['bytes=10-', 10, 19],
      ['bytes=5-5', 5, 5],
      ['bytes=15-1000', 15, 19],
      ['bytes=-100', 0, 19],
    ])('Range %s → 206 with those bytes', async (range, start, end) => {
      const res = await download(owner, attachment.id, { Range: range }).expect(206);
      expect((res.body as Buffer).equals(bytes.subarray(start, end + 1))).toBe(true);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/20`);
      expect(res.headers['content-length']).toBe(String(end - start + 1));
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it.each(['bytes=20-', 'bytes=100-200', 'bytes=-0'])(
      'Range %s → 416 RANGE_NOT_SATISFIABLE with Content-Range: bytes */20',
      async (range) => {
        const res = await download(owner, attachment.id, { Range: range });
        expect(res.status).toBe(416);
        expect(res.headers['content-range']).toBe('bytes */20');
        expectError(errorOf(res), 416, 'RANGE_NOT_SATISFIABLE');
        expect(res.headers['content-type']).toBe(JSON_UTF8);
      },
    );

    it.each(['bytes=0-1,4-5', 'items=0-3', 'bytes=5-2', 'bytes=abc'])(
      'Range %s (several, another unit, malformed) → 200 with the whole file',
      async (range) => {
        const res = await download(owner, attachment.id, { Range: range }).expect(200);
        expect((res.body as Buffer).equals(bytes)).toBe(true);
        expect(res.headers['content-range']).toBeUndefined();
      },
    );

    it('If-Range with the ETag honours the Range (206); with another tag sends the whole file (200)', async () => {
      const tag = `"${sha256(bytes)}"`;
      const part = await download(owner, attachment.id, { Range: 'bytes=0-3', 'If-Range': tag }).expect(206);
      expect((part.body as Buffer).toString()).toBe('0123');
      const whole = await download(owner, attachment.id, { Range: 'bytes=0-3', 'If-Range': '"other"' }).expect(200);
      expect((whole.body as Buffer).equals(bytes)).toBe(true);
      // If-Range compares strongly: a weak tag, or a date (no Last-Modified is sent), gets the whole file.
      for (const ifRange of [`W/${tag}`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
        const res = await download(owner, attachment.id, { Range: 'bytes=0-3', 'If-Range': ifRange }).expect(200);
        expect((res.body as Buffer).equals(bytes)).toBe(true);
      }
      const stale = await download(owner, attachment.id, { Range: 'bytes=100-', 'If-Range': '"other"' }).expect(200);
      expect((stale.body as Buffer).equals(bytes)).toBe(true);
    });

    it('If-None-Match with the ETag → 304 without a body; with another tag → 200', async () => {
      const tag = `"${sha256(bytes)}"`;
      for (const header of [tag, `W/${tag}`, `"nope", ${tag}`, '*']) {
        const res = await download(owner, attachment.id, { 'If-None-Match': header });
        expect(res.status).toBe(304);
        expect((res.body as Buffer).length).toBe(0);
        expect(res.headers.etag).toBe(tag);
      }
      const res = await download(owner, attachment.id, { 'If-None-Match': '"nope"' }).expect(200);
      expect((res.body as Buffer).equals(bytes)).toBe(true);
    });

    it('HEAD sends the headers without the body', async () => {
      const res = await t.http().head(contentUrl(attachment.id)).set(bearer(owner.accessToken)).expect(200);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.headers['content-length']).toBe('20');
      expect(res.headers['content-disposition']).toMatch(/^attachment;/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.text ?? '').toBe('');
    });

    it('a missing attachment is 404 NOT_FOUND; a non-UUID id is 400 naming attachmentId', async () => {
      expectError(errorOf(await download(owner, '00000000-0000-4000-8000-000000000000')), 404, 'NOT_FOUND');
      expectValidationFailed(errorOf(await download(owner, 'not-a-uuid')), ['attachmentId']);
    });

    it('without a token is 401', async () => {
      expectUnauthenticated(errorOf(await download(undefined, attachment.id)));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('an upload that the client aborts', () => {
    it('leaves no row, no stored file and nothing in incoming/', async () => {
      const before = await snapshot();
      const { port } = t.server.address() as { port: number };
      const head = Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="partial.txt"\r\nContent-Type: text/plain\r\n\r\n`,
      );
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.on('error', () => undefined);
      socket.write(
        [
          `POST ${taskAttachmentsUrl(task.id)} HTTP/1.1`,
          'Host: 127.0.0.1',
          `Authorization: Bearer ${owner.accessToken}`,
          `Content-Type: ${MULTIPART}`,
          `Content-Length: ${5 * 1024 * 1024}`,
          '',
          '',
        ].join('\r\n'),
      );
      socket.write(head);
      socket.write(textOf(64 * 1024));
      // The server has started writing the temporary file...
      expect(await eventually(() => incomingFiles(t).length > 0)).toBe(true);
      socket.destroy();

      // ...and removes it once the connection is gone.
      expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
      expect(await countRows()).toBe(before.rows);
      expect(await stored()).toEqual(before.files);

      // The server is fine afterwards.
      expectData(await upload(owner, TEXT, 'after.txt'), 201);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('roles and tenancy', () => {
    it.each(['owner', 'admin', 'member'] as const)('a %s may upload', async (role) => {
      const attachment = await uploadOk(org.users[role], PNG, `${role}.png`);
      expect(attachment.uploadedBy).toBe(org.users[role].id);
    });

    it('a viewer may not upload: 403, the body is not stored', async () => {
      const before = await snapshot();
      const res = await upload(org.users.viewer, PNG, 'viewer.png');
      expectError(res, 403, 'FORBIDDEN');
      await expectNothingStored(before);
    });

    it('an outsider gets 404 on upload, list, content and delete', async () => {
      const attachment = await uploadOk(owner, PNG);
      const before = await snapshot();
      const outsider = org.users.outsider;
      expectError(await upload(outsider, PNG), 404, 'NOT_FOUND');
      await expectNothingStored(before);
      expectError(await as(outsider).get(taskAttachmentsUrl(task.id)), 404, 'NOT_FOUND');
      expectError(errorOf(await download(outsider, attachment.id)), 404, 'NOT_FOUND');
      expectError(await as(outsider).delete(attachmentUrl(attachment.id)), 404, 'NOT_FOUND');
      expect(await storageKeyOf(attachment.id)).toBeDefined();
    });

    it("another org's task and attachment are 404 to this org's owner", async () => {
      const theirs = await uploadOk(otherOwner, PDF, 'theirs.pdf', otherTask.id);
      const before = await snapshot();
      expectError(await upload(owner, PNG, 'x.png', 'image/png', otherTask.id), 404, 'NOT_FOUND');
      await expectNothingStored(before);
      expectError(await as(owner).get(taskAttachmentsUrl(otherTask.id)), 404, 'NOT_FOUND');
      expectError(errorOf(await download(owner, theirs.id)), 404, 'NOT_FOUND');
      expectError(await as(owner).delete(attachmentUrl(theirs.id)), 404, 'NOT_FOUND');
      // Still there for its own org.
      const down = await download(otherOwner, theirs.id).expect(200);
      expect((down.body as Buffer).equals(PDF)).toBe(true);
    });

    it('any member, a viewer included, lists; an unknown task is 404', async () => {
      const attachment = await uploadOk(org.users.member, PNG);
      for (const role of ['owner', 'admin', 'member', 'viewer'] as const) {
        const { data } = expectList<AttachmentBody>(
          await as(org.users[role]).get(taskAttachmentsUrl(task.id)).query({ limit: '100' }),
        );
        for (const item of data) expect(Object.keys(item).sort()).toEqual(ATTACHMENT_KEYS);
        expect(data.map((a) => a.id)).toContain(attachment.id);
      }
      expectError(await as(owner).get(taskAttachmentsUrl('00000000-0000-4000-8000-000000000000')), 404, 'NOT_FOUND');
    });

    it('the uploader deletes their own attachment; another member or a viewer may not (403)', async () => {
      const byAdmin = await uploadOk(org.users.admin, PNG);
      expectError(await as(org.users.member).delete(attachmentUrl(byAdmin.id)), 403, 'FORBIDDEN');
      const byMember = await uploadOk(org.users.member, PNG);
      expectError(await as(org.users.viewer).delete(attachmentUrl(byMember.id)), 403, 'FORBIDDEN');
      expect(await storageKeyOf(byMember.id)).toBeDefined();
      expectNoContent(await as(org.users.member).delete(attachmentUrl(byMember.id)));
      expect(await storageKeyOf(byMember.id)).toBeUndefined();
    });

    it.each(['admin', 'owner'] as const)("an org %s deletes someone else's attachment", async (role) => {
      const attachment = await uploadOk(org.users.member, PNG);
      expectNoContent(await as(org.users[role]).delete(attachmentUrl(attachment.id)));
      expectError(errorOf(await download(org.users.member, attachment.id)), 404, 'NOT_FOUND');
      expectError(await as(org.users[role]).delete(attachmentUrl(attachment.id)), 404, 'NOT_FOUND');
    });

    it('every route is 401 without a token', async () => {
      const attachment = await uploadOk(owner, PNG);
      expectUnauthenticated(await upload(undefined, PNG));
      expectUnauthenticated(await t.http().get(taskAttachmentsUrl(task.id)));
      expectUnauthenticated(await t.http().delete(attachmentUrl(attachment.id)));
      expectUnauthenticated(await upload({ ...owner, accessToken: 'not.a.token' }, PNG));
    });

    it('non-UUID ids are 400 naming the parameter, and an upload to one stores nothing', async () => {
      const before = await snapshot();
      expectValidationFailed(await upload(owner, PNG, 'a.png', 'image/png', 'nope'), ['taskId']);
      await expectNothingStored(before);
      expectValidationFailed(await as(owner).get(taskAttachmentsUrl('nope')), ['taskId']);
      expectValidationFailed(await as(owner).delete(attachmentUrl('nope')), ['attachmentId']);
    });

    it('an upload to a task that does not exist is 404 and stores nothing', async () => {
      const before = await snapshot();
      expectError(
        await upload(owner, PNG, 'a.png', 'image/png', '00000000-0000-4000-8000-000000000000'),
        404,
        'NOT_FOUND',
      );
      await expectNothingStored(before);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('files are removed with their rows', () => {
    const exists = async (key: string): Promise<boolean> => (await stored()).includes(key);
    /** Those of `keys` still stored. */
    const present = async (keys: string[]): Promise<string[]> => {
      const all = await stored();
      return keys.filter((key) => all.includes(key));
    };
    const queued = async (): Promise<number> =>
      (await t.dataSource.query('SELECT count(*)::int AS n FROM file_deletions'))[0].n;

    it('deleting an attachment removes its file', async () => {
      const attachment = await uploadOk(org.users.member, PDF, 'gone.pdf');
      const key = (await storageKeyOf(attachment.id))!;
      expect(await exists(key)).toBe(true);
      expectNoContent(await as(org.users.member).delete(attachmentUrl(attachment.id)));
      expect(await exists(key)).toBe(false);
      expect(await queued()).toBe(0);
    });

    it('deleting a task removes the files of all its attachments, and only those', async () => {
      const doomed = await createTask(owner, project.id);
      const keys: string[] = [];
      for (const bytes of [PNG, PDF, TEXT])
        keys.push((await storageKeyOf((await uploadOk(owner, bytes, 'x', doomed.id)).id))!);
      const survivor = (await storageKeyOf((await uploadOk(owner, PNG, 'keep.png')).id))!;
      expect(await present(keys)).toEqual(keys);
      expectNoContent(await as(owner).delete(`/api/v1/tasks/${doomed.id}`));
      expect(await present(keys)).toEqual([]);
      expect(await exists(survivor)).toBe(true);
      expect(await queued()).toBe(0);
    });

    it('deleting a project removes the files of its tasks’ attachments', async () => {
      const doomedProject = await createProject(owner, org.orgId);
      const keys: string[] = [];
      for (let i = 0; i < 2; i++) {
        const doomedTask = await createTask(owner, doomedProject.id);
        keys.push((await storageKeyOf((await uploadOk(owner, GIF, 'a.gif', doomedTask.id)).id))!);
        keys.push((await storageKeyOf((await uploadOk(owner, TEXT, 'b.txt', doomedTask.id)).id))!);
      }
      expect(await present(keys)).toEqual(keys);
      expectNoContent(await as(owner).delete(`/api/v1/projects/${doomedProject.id}`));
      expect(await present(keys)).toEqual([]);
      expect(await queued()).toBe(0);
    });

    it('deleting an org removes the files of every attachment in it', async () => {
      const doomedOwner = await registerUser(t, { name: 'Doomed owner' });
      const orgId = await createOrg(t, doomedOwner, 'Doomed Org');
      const doomedTask = await createTask(doomedOwner, (await createProject(doomedOwner, orgId)).id);
      const keys: string[] = [];
      for (const bytes of [PNG, DOCX]) {
        keys.push((await storageKeyOf((await uploadOk(doomedOwner, bytes, 'o', doomedTask.id)).id))!);
      }
      const survivor = (await storageKeyOf((await uploadOk(owner, PNG, 'keep.png')).id))!;
      expect(await present(keys)).toEqual(keys);
      expectNoContent(await t.http().delete(`/api/v1/orgs/${orgId}`).set(bearer(doomedOwner.accessToken)));
      expect(await present(keys)).toEqual([]);
      expect(await exists(survivor)).toBe(true);
      expect(await queued()).toBe(0);
    });

    it('every stored file belongs to a row, and every row has its file', async () => {
      const rows: { storage_key: string }[] = await t.dataSource.query('SELECT storage_key FROM attachments');
      expect(await stored()).toEqual(rows.map((r) => r.storage_key).sort());
      expect(incomingFiles(t)).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('audit', () => {
    it('records attachment.created and attachment.deleted with the request id', async () => {
      const createdId = requestId('att-up');
      const res = await upload(org.users.member, PDF, 'audited.pdf', 'application/pdf', task.id, {
        'X-Request-Id': createdId,
      });
      const attachment = expectData<AttachmentBody>(res, 201);
      const deletedId = requestId('att-del');
      expectNoContent(await as(org.users.admin).delete(attachmentUrl(attachment.id)).set('X-Request-Id', deletedId));

      const events = await auditEvents(t, org.orgId, owner, { entityType: 'attachment', entityId: attachment.id });
      expect(events.map((e) => e.action)).toEqual(['attachment.deleted', 'attachment.created']);
      const [deleted, created] = events;
      const fields = {
        taskId: task.id,
        filename: 'audited.pdf',
        contentType: 'application/pdf',
        size: PDF.length,
        sha256: sha256(PDF),
      };
      expect(created).toMatchObject({
        orgId: org.orgId,
        actorId: org.users.member.id,
        entityType: 'attachment',
        entityId: attachment.id,
        requestId: createdId,
        changes: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, [null, v]])),
      });
      expect(deleted).toMatchObject({
        orgId: org.orgId,
        actorId: org.users.admin.id,
        entityType: 'attachment',
        entityId: attachment.id,
        requestId: deletedId,
        changes: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, [v, null]])),
      });
    });

    it('a refused upload writes no event', async () => {
      const id = requestId('att-refused');
      const res = await upload(owner, HTML, 'x.png', 'image/png', task.id, { 'X-Request-Id': id });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(res.headers['x-request-id']).toBe(id);
      const rows = await t.dataSource.query('SELECT 1 FROM audit_events WHERE request_id = $1', [id]);
      expect(rows).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /tasks/{taskId}/attachments', () => {
    it('pages newest first with limit and nextCursor', async () => {
      const listTask = await createTask(owner, project.id);
      const uploaded: AttachmentBody[] = [];
      for (let i = 0; i < 5; i++) uploaded.push(await uploadOk(owner, TEXT, `n${i}.txt`, listTask.id));
      const expected = [...uploaded]
        .sort((a, b) => (a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? 1 : -1))
        .map((a) => a.id);
      const seen = await walkPages<AttachmentBody>(
        (cursor) =>
          as(org.users.viewer)
            .get(taskAttachmentsUrl(listTask.id))
            .query({ limit: '2', ...(cursor ? { cursor } : {}) }),
        2,
        3,
      );
      expect(seen.map((a) => a.id)).toEqual(expected);
      expect(seen.find((a) => a.id === uploaded[0].id)).toEqual(uploaded[0]);
    });

    it('an invalid cursor is 400 INVALID_CURSOR; a bad limit is 400 naming limit', async () => {
      expectError(await as(owner).get(taskAttachmentsUrl(task.id)).query({ cursor: 'garbage' }), 400, 'INVALID_CURSOR');
      // A cursor from another task's list is not valid here.
      const listTask = await createTask(owner, project.id);
      for (let i = 0; i < 2; i++) await uploadOk(owner, TEXT, 'c.txt', listTask.id);
      const { page } = expectList(await as(owner).get(taskAttachmentsUrl(listTask.id)).query({ limit: '1' }));
      expect(page.nextCursor).toEqual(expect.any(String));
      expectError(
        await as(owner).get(taskAttachmentsUrl(task.id)).query({ cursor: page.nextCursor! }),
        400,
        'INVALID_CURSOR',
      );
      expectValidationFailed(await as(owner).get(taskAttachmentsUrl(task.id)).query({ limit: '0' }), ['limit']);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// What only the S3 driver does: multipart uploads, ranged reads passed to the store, objects
// removed from the bucket, and a store that is missing an object, a bucket, or is down.
describe('attachments in an S3 bucket', () => {
  const MiB = 1024 * 1024;
  let s3: S3TestServer;
  let t: TestApp;
  let owner: SignedInUser;
  let taskId: string;
  let big: Buffer;
  let bigAttachment: AttachmentBody;
  let sends: jest.SpyInstance;

  beforeAll(async () => {
    s3 = await startS3Server();
    t = await createTestApp({ env: { ...s3.env, UPLOAD_MAX_BYTES: String(16 * MiB) } });
    const org = await createRoleOrg(t, 'Bucket Org');
    owner = org.users.owner;
    ({ taskId } = await createProjectTask(t, owner, org.orgId));
    // Random bytes behind a PNG signature: typed as an image, and any corruption shows.
    big = Buffer.concat([PNG, randomBytes(12 * MiB + 12345)]);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  // Every command any S3 client in this process sends (the app's, and the test's own).
  beforeEach(() => {
    sends = jest.spyOn(S3Client.prototype, 'send');
  });
  afterEach(() => sends.mockRestore());

  const sent = <C>(type: new (...args: never[]) => C): C[] =>
    sends.mock.calls.map(([command]) => command as unknown).filter((command): command is C => command instanceof type);

  const upload = (bytes: Buffer, filename = 'big.png') =>
    sendFile(t, 'post', taskAttachmentsUrl(taskId), owner, bytes, filename);
  const download = (id: string, headers: Record<string, string> = {}) => getBytes(t, contentUrl(id), owner, headers);
  const keyOf = async (id: string): Promise<string> =>
    (await t.dataSource.query('SELECT storage_key FROM attachments WHERE id = $1', [id]))[0].storage_key;
  const rowCount = async (app: TestApp): Promise<number> =>
    (await app.dataSource.query('SELECT count(*)::int AS n FROM attachments'))[0].n;

  it('a 12 MiB file goes up in parts, streamed, and comes back byte for byte', async () => {
    bigAttachment = expectData<AttachmentBody>(await upload(big), 201);
    expect(bigAttachment).toMatchObject({ contentType: 'image/png', size: big.length, sha256: sha256(big) });

    // More than lib-storage's 5 MiB part: a multipart upload of three parts, no single PutObject.
    expect(sent(CreateMultipartUploadCommand)).toHaveLength(1);
    expect(sent(UploadPartCommand)).toHaveLength(3);
    expect(sent(CompleteMultipartUploadCommand)).toHaveLength(1);
    expect(sent(PutObjectCommand)).toEqual([]);
    expect(sent(AbortMultipartUploadCommand)).toEqual([]);
    // No checksum asked of the store (requestChecksumCalculation: WHEN_REQUIRED): many stores
    // short of AWS S3 refuse it.
    expect(sent(CreateMultipartUploadCommand)[0].input.ChecksumAlgorithm).toBeUndefined();

    // The object holds the file's bytes and nothing else (no aws-chunked framing).
    const key = await keyOf(bigAttachment.id);
    expect(await s3.keys()).toContain(key);
    expect(sha256(await storedBytes(t, s3, key))).toBe(sha256(big));
    // Nothing on disk: the temporary file went once stored.
    expect(storedFiles(t, 'attachments')).toEqual([]);
    expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);

    const down = await download(bigAttachment.id).expect(200);
    expect(down.headers['content-length']).toBe(String(big.length));
    expect(sha256(down.body as Buffer)).toBe(sha256(big));
  });

  it.each([
    ['across the first part boundary', `bytes=${5 * MiB - 10}-${5 * MiB + 9}`, 5 * MiB - 10, 5 * MiB + 9],
    ['a suffix', 'bytes=-100', -100, -1],
    ['an open end', `bytes=${12 * MiB}-`, 12 * MiB, -1],
  ])('a Range (%s) is asked of the store and answered 206 with those bytes', async (_, range, from, to) => {
    const start = from < 0 ? big.length + from : from;
    const end = to < 0 ? big.length + to : to;
    const res = await download(bigAttachment.id, { Range: range }).expect(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${big.length}`);
    expect((res.body as Buffer).equals(big.subarray(start, end + 1))).toBe(true);
    // The store was asked for that range, not for the whole object.
    expect(sent(GetObjectCommand).map((command) => command.input.Range)).toEqual([`bytes=${start}-${end}`]);
  });

  it('the driver streams exactly the range the store sends', async () => {
    const storage = t.app.get(FileStorage);
    const stream = await storage.read(await keyOf(bigAttachment.id), { start: 1000, end: 1999 });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(big.subarray(1000, 2000))).toBe(true);
  });

  it('deleting an attachment removes its object from the bucket once the deletion has committed', async () => {
    const attachment = expectData<AttachmentBody>(await upload(PDF, 'gone.pdf'), 201);
    const key = await keyOf(attachment.id);
    expect(await s3.keys()).toContain(key);
    expectNoContent(await client(t, owner).delete(attachmentUrl(attachment.id)));
    expect(sent(DeleteObjectCommand).map((command) => command.input.Key)).toContain(key);
    expect(await s3.keys()).not.toContain(key);
    expect((await t.dataSource.query('SELECT count(*)::int AS n FROM file_deletions'))[0].n).toBe(0);
  });

  it('an object missing from the bucket is a 404 NOT_FOUND, answered before any byte is sent', async () => {
    const attachment = expectData<AttachmentBody>(await upload(TEXT, 'lost.txt'), 201);
    const bucket = s3.client();
    try {
      await bucket.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: await keyOf(attachment.id) }));
    } finally {
      bucket.destroy();
    }
    const res = await download(attachment.id);
    expectError(errorOf(res), 404, 'NOT_FOUND');
    expect(res.headers['content-type']).toBe(JSON_UTF8);
  });

  it('an upload refused by type (415) or size (413) sends nothing to the store and leaves no object', async () => {
    const before = { rows: await rowCount(t), keys: await s3.keys() };
    expectError(await upload(HTML, 'page.png'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await upload(textOf(16 * MiB + 1), 'huge.txt'), 413, 'PAYLOAD_TOO_LARGE');
    expect([...sent(PutObjectCommand), ...sent(CreateMultipartUploadCommand), ...sent(UploadPartCommand)]).toEqual([]);
    expect(await rowCount(t)).toBe(before.rows);
    expect(await s3.keys()).toEqual(before.keys);
    expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
  });

  describe('a store that cannot be reached', () => {
    let down: S3TestServer;
    let app: TestApp;
    let user: SignedInUser;
    let downTaskId: string;
    let earlier: AttachmentBody;

    beforeAll(async () => {
      down = await startS3Server();
      app = await createTestApp({ env: down.env });
      const org = await createRoleOrg(app, 'Down Org');
      user = org.users.owner;
      ({ taskId: downTaskId } = await createProjectTask(app, user, org.orgId));
      earlier = expectData<AttachmentBody>(
        await sendFile(app, 'post', taskAttachmentsUrl(downTaskId), user, PDF, 'earlier.pdf'),
        201,
      );
      await down.stop();
    }, 60_000);
    afterAll(() => app?.close());

    const queued = async (): Promise<{ storage_key: string; due: boolean }[]> =>
      app.dataSource.query('SELECT storage_key, due_at <= now() AS due FROM file_deletions ORDER BY id');

    /** A 500 envelope that says nothing of the store: no address, bucket, key, SDK or errno. */
    function expectCleanInternal(res: Parameters<typeof expectError>[0]): void {
      const error = expectError(res, 500, 'INTERNAL');
      expect(error.message).toBe('Internal server error');
      expect(JSON.stringify(res.body)).not.toMatch(
        /ECONNREFUSED|127\.0\.0\.1|tasklane-test|attachments\/|S3|aws|bucket|socket|connect/i,
      );
    }

    it('an upload is a clean 500, and leaves no row, no audit event, no temporary file', async () => {
      const id = requestId('att-store-down');
      const res = await sendFile(app, 'post', taskAttachmentsUrl(downTaskId), user, PNG, 'a.png', 'image/png', {
        'X-Request-Id': id,
      });
      expectCleanInternal(res);
      expect(await rowCount(app)).toBe(1);
      expect(await app.dataSource.query('SELECT 1 FROM audit_events WHERE request_id = $1', [id])).toEqual([]);
      expect(await eventually(() => incomingFiles(app).length === 0)).toBe(true);
      // Whatever may have reached the store is removed once it is back: the upload's reservation
      // is due, and the sweep retries it.
      const [reservation] = await queued();
      expect(reservation).toEqual({ storage_key: expect.stringMatching(/^attachments\//), due: true });
    });

    it('a download is a clean 500', async () => {
      expectCleanInternal(errorOf(await getBytes(app, contentUrl(earlier.id), user)));
    });

    it("is a 500 even for the SDK's errno-coded errors, never the 503 of a database that is down", async () => {
      // Under Jest the SDK wraps Node's socket errors (they come from another realm); in
      // production it rejects with them as they are, `code: 'ECONNREFUSED'` included.
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
      sends.mockRejectedValueOnce(refused);
      expectCleanInternal(errorOf(await getBytes(app, contentUrl(earlier.id), user)));
      sends.mockRejectedValueOnce(refused);
      expectCleanInternal(await sendFile(app, 'post', taskAttachmentsUrl(downTaskId), user, PNG, 'b.png'));
      expect(sent(GetObjectCommand)).toHaveLength(1);
      expect(sent(PutObjectCommand)).toHaveLength(1);
    });

    it('a deletion goes through (204), and its object stays queued for removal until the store is back', async () => {
      const key = (await app.dataSource.query('SELECT storage_key FROM attachments WHERE id = $1', [earlier.id]))[0]
        .storage_key as string;
      expectNoContent(await client(app, user).delete(attachmentUrl(earlier.id)));
      expect(await rowCount(app)).toBe(0);
      expect(await queued()).toContainEqual({ storage_key: key, due: true });
    });
  });

  it('a bucket that does not exist is logged at boot, which it does not hold up', async () => {
    const app = await createTestApp({ env: { ...s3.env, S3_BUCKET: 'no-such-bucket' }, captureLogs: true });
    try {
      const logged = () => app.logs.some((line) => /S3 bucket "no-such-bucket".*cannot be used/.test(String(line.msg)));
      expect(await eventually(logged)).toBe(true);
      expect(app.logs.find((line) => /no-such-bucket/.test(String(line.msg)))?.level).toBe(50);
    } finally {
      await app.close();
    }
  });
});
