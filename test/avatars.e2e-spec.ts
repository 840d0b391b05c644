import { USER_KEYS, UserBody } from './support/bodies';
import {
  etag,
  expectData,
  expectError,
  expectNoContent,
  expectUnauthenticated,
  expectValidationFailed,
  JSON_UTF8,
} from './support/envelope';
import { addMember, createOrg } from './support/pt-helpers';
import { S3TestServer, startS3Server } from './support/s3-server';
import { createTestApp, TestApp } from './support/test-app';
import {
  binary,
  errorOf,
  getBytes,
  eventually,
  GIF,
  HTML,
  incomingFiles,
  JPEG,
  MULTIPART,
  multipartBody,
  filePart,
  PDF,
  PNG,
  sendFile,
  sendRaw,
  sha256,
  storedBytes,
  storedKeys,
  SVG,
  webp,
} from './support/upload-helpers';
import { bearer, createAdmin, registerUser, SignedInUser } from './support/users';

// Avatars (API.md §6): PUT /users/{id}/avatar (multipart, PNG/JPEG/WebP by content, ≤ 2 MiB),
// GET /users/{id}/avatar (self, admins, anyone sharing an org), avatarUrl in the user resource,
// and the stored image files (replaced and deleted with the user), with either storage driver:
// the local folder (UPLOAD_DIR) or an S3 bucket (s3rver in this process). Also the OpenAPI
// document's description of both upload routes.

const AVATAR_MAX_BYTES = 2 * 1024 * 1024;
const userUrl = (id: string): string => `/api/v1/users/${id}`;
const avatarUrl = (id: string): string => `/api/v1/users/${id}/avatar`;

/** A PNG signature followed by padding: `size` bytes that sniff as image/png. */
const pngOfSize = (size: number): Buffer => Buffer.concat([PNG, Buffer.alloc(size - PNG.length, 0x42)]);

describe.each(['local', 's3'] as const)('avatars (%s storage)', (driver) => {
  let s3: S3TestServer | undefined;
  let t: TestApp;
  let admin: SignedInUser;

  beforeAll(async () => {
    s3 = driver === 's3' ? await startS3Server() : undefined;
    t = await createTestApp({ env: s3?.env });
    admin = await createAdmin(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  const put = (
    caller: SignedInUser | undefined,
    id: string,
    bytes: Buffer,
    filename = 'me.png',
    headers: Record<string, string> = {},
  ) => sendFile(t, 'put', avatarUrl(id), caller, bytes, filename, 'image/png', headers);

  async function putOk(caller: SignedInUser, id: string, bytes: Buffer): Promise<UserBody> {
    const res = await put(caller, id, bytes);
    const user = expectData<UserBody>(res);
    expect(Object.keys(user).sort()).toEqual(USER_KEYS);
    expect(res.headers.etag).toBe(etag(user.version));
    return user;
  }

  const getAvatar = (caller: SignedInUser | undefined, id: string, headers: Record<string, string> = {}) =>
    getBytes(t, avatarUrl(id), caller, headers);

  const readUser = async (caller: SignedInUser, id: string): Promise<UserBody> =>
    expectData<UserBody>(await t.http().get(userUrl(id)).set(bearer(caller.accessToken)));

  const avatarKey = async (id: string): Promise<string | null> =>
    (await t.dataSource.query('SELECT avatar_key FROM users WHERE id = $1', [id]))[0].avatar_key;

  const stored = (): Promise<string[]> => storedKeys(t, 'avatars', s3);
  const exists = async (key: string): Promise<boolean> => (await stored()).includes(key);

  const queued = async (): Promise<number> =>
    (await t.dataSource.query('SELECT count(*)::int AS n FROM file_deletions'))[0].n;

  // -------------------------------------------------------------------------------------------
  describe('PUT /users/{id}/avatar', () => {
    it.each([
      ['PNG', () => PNG, 'image/png'],
      ['JPEG', () => JPEG, 'image/jpeg'],
      ['WebP', webp, 'image/webp'],
    ])('sets a %s avatar: 200, the user with avatarUrl and a new version', async (_, make, type) => {
      const me = await registerUser(t);
      const before = await readUser(me, me.id);
      expect(before.avatarUrl).toBeNull();
      const bytes = make();
      // The claimed name and type do not matter: the bytes do.
      const res = await sendFile(t, 'put', avatarUrl(me.id), me, bytes, 'avatar.gif', 'image/gif');
      const user = expectData<UserBody>(res);
      expect(user).toMatchObject({ id: me.id, email: me.email, version: before.version + 1 });
      expect(user.avatarUrl).toBe(`${avatarUrl(me.id)}?v=${sha256(bytes).slice(0, 16)}`);
      expect(await readUser(me, me.id)).toEqual(user);

      // Stored under avatars/xx/<uuid>, byte for byte; nothing left in incoming/.
      const key = (await avatarKey(me.id))!;
      expect(key).toMatch(/^avatars\/[0-9a-f]{2}\/[0-9a-f-]{36}$/);
      expect((await storedBytes(t, s3, key)).equals(bytes)).toBe(true);
      expect(await stored()).toContain(key);
      expect(incomingFiles(t)).toEqual([]);

      // Served back, through avatarUrl itself, with the detected type and the exact bytes.
      const image = await t
        .http()
        .get(user.avatarUrl!)
        .set(bearer(me.accessToken))
        .buffer(true)
        .parse(binary)
        .expect(200);
      expect(image.headers['content-type']).toBe(type);
      expect(image.headers['content-length']).toBe(String(bytes.length));
      expect(image.headers['x-content-type-options']).toBe('nosniff');
      expect(image.headers.etag).toBe(`"${sha256(bytes)}"`);
      expect((image.body as Buffer).equals(bytes)).toBe(true);
    });

    it.each([
      ['GIF', () => GIF],
      ['HTML renamed .png', () => HTML],
      ['SVG', () => SVG],
      ['PDF', () => PDF],
    ])('refuses %s with 415: the user and the disk are unchanged', async (_, make) => {
      const me = await registerUser(t);
      const before = await readUser(me, me.id);
      const files = await stored();
      const error = expectError(await put(me, me.id, make()), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(error.message).toMatch(/image\/png, image\/jpeg, image\/webp/);
      expect(await readUser(me, me.id)).toEqual(before);
      expect(await stored()).toEqual(files);
      expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
    });

    it('takes an image of exactly 2 MiB; one byte more is 413 PAYLOAD_TOO_LARGE and stores nothing', async () => {
      const me = await registerUser(t);
      const user = await putOk(me, me.id, pngOfSize(AVATAR_MAX_BYTES));
      expect(user.avatarUrl).not.toBeNull();
      const files = await stored();
      const res = await put(me, me.id, pngOfSize(AVATAR_MAX_BYTES + 1));
      const error = expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(error.message).toMatch(String(AVATAR_MAX_BYTES));
      expect(await readUser(me, me.id)).toEqual(user);
      expect(await stored()).toEqual(files);
      expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
    });

    it('a malformed body is 400 MALFORMED_BODY; a missing file 400 naming file; JSON 415', async () => {
      const me = await registerUser(t);
      const cut = multipartBody([filePart(PNG, 'a.png')]).subarray(0, 120);
      expectError(await sendRaw(t, 'put', avatarUrl(me.id), cut, MULTIPART, me), 400, 'MALFORMED_BODY');
      const empty = multipartBody([{ name: 'other', body: 'x' }]);
      expectValidationFailed(await sendRaw(t, 'put', avatarUrl(me.id), empty, MULTIPART, me), ['other']);
      const none = Buffer.from(`--${MULTIPART.split('boundary=')[1]}--\r\n`);
      expectValidationFailed(await sendRaw(t, 'put', avatarUrl(me.id), none, MULTIPART, me), ['file']);
      const json = await t.http().put(avatarUrl(me.id)).set(bearer(me.accessToken)).send({ file: 'x' });
      expectError(json, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect((await readUser(me, me.id)).avatarUrl).toBeNull();
    });

    it("another user's avatar: 404 for a non-admin (even a co-member), 200 for a platform admin", async () => {
      const [owner, member] = [await registerUser(t), await registerUser(t)];
      const orgId = await createOrg(t, owner, 'Avatar Org');
      await addMember(t, orgId, owner, member, 'member');
      expectError(await put(owner, member.id, PNG), 404, 'NOT_FOUND');
      expectError(await put(member, owner.id, PNG), 404, 'NOT_FOUND');
      expect(await avatarKey(member.id)).toBeNull();

      const user = await putOk(admin, member.id, JPEG);
      expect(user.id).toBe(member.id);
      expect(user.avatarUrl).toBe(`${avatarUrl(member.id)}?v=${sha256(JPEG).slice(0, 16)}`);
      const image = await getAvatar(member, member.id).expect(200);
      expect((image.body as Buffer).equals(JPEG)).toBe(true);
    });

    it('replacing an avatar changes avatarUrl and removes the old file', async () => {
      const me = await registerUser(t);
      const first = await putOk(me, me.id, PNG);
      const firstKey = (await avatarKey(me.id))!;
      expect(await exists(firstKey)).toBe(true);
      const second = await putOk(me, me.id, JPEG);
      const secondKey = (await avatarKey(me.id))!;
      expect(second.avatarUrl).not.toBe(first.avatarUrl);
      expect(second.version).toBe(first.version + 1);
      expect(secondKey).not.toBe(firstKey);
      expect(await exists(firstKey)).toBe(false);
      expect(await exists(secondKey)).toBe(true);
      expect(await queued()).toBe(0);
      const image = await getAvatar(me, me.id).expect(200);
      expect(image.headers['content-type']).toBe('image/jpeg');
      expect((image.body as Buffer).equals(JPEG)).toBe(true);
    });

    it('If-Match: the current ETag goes through, a stale one is 412 and changes nothing', async () => {
      const me = await registerUser(t);
      const current = await readUser(me, me.id);
      const user = await expectData<UserBody>(
        await put(me, me.id, PNG, 'a.png', { 'If-Match': etag(current.version) }),
      );
      expect(user.version).toBe(current.version + 1);
      const key = await avatarKey(me.id);
      const files = await stored();
      const stale = await put(me, me.id, JPEG, 'b.png', { 'If-Match': etag(current.version) });
      expectError(stale, 412, 'PRECONDITION_FAILED');
      expect(await readUser(me, me.id)).toEqual(user);
      expect(await avatarKey(me.id)).toBe(key);
      expect(await stored()).toEqual(files);
      expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
    });

    it('an admin setting the avatar of a user that does not exist gets 404, and nothing is stored', async () => {
      const files = await stored();
      expectError(await put(admin, '00000000-0000-4000-8000-000000000000', PNG), 404, 'NOT_FOUND');
      expect(await stored()).toEqual(files);
      expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
    });

    it('is 401 without a token and 400 for a non-UUID id', async () => {
      const me = await registerUser(t);
      expectUnauthenticated(await put(undefined, me.id, PNG));
      expectValidationFailed(await put(me, 'me', PNG), ['id']);
      expect(await eventually(() => incomingFiles(t).length === 0)).toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /users/{id}/avatar', () => {
    let owner: SignedInUser;
    let member: SignedInUser;
    let stranger: SignedInUser;
    let image: Buffer;

    beforeAll(async () => {
      [owner, member, stranger] = [await registerUser(t), await registerUser(t), await registerUser(t)];
      const orgId = await createOrg(t, owner, 'Shared Org');
      await addMember(t, orgId, owner, member, 'viewer');
      image = webp();
      await putOk(owner, owner.id, image);
    });

    it.each(['self', 'co-member', 'admin'] as const)('the %s gets the image', async (who) => {
      const caller = { self: () => owner, 'co-member': () => member, admin: () => admin }[who]();
      const res = await getAvatar(caller, owner.id).expect(200);
      expect(res.headers['content-type']).toBe('image/webp');
      expect(res.headers['content-length']).toBe(String(image.length));
      expect(res.headers['content-disposition']).toBe(`inline; filename="avatar.webp"; filename*=UTF-8''avatar.webp`);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect((res.body as Buffer).equals(image)).toBe(true);
    });

    it('a user sharing no org gets 404; so does anyone for a user without an avatar', async () => {
      expectError(errorOf(await getAvatar(stranger, owner.id)), 404, 'NOT_FOUND');
      const res = await getAvatar(stranger, stranger.id);
      expectError(errorOf(res), 404, 'NOT_FOUND');
      expect(res.headers['content-type']).toBe(JSON_UTF8);
      expectError(errorOf(await getAvatar(admin, stranger.id)), 404, 'NOT_FOUND');
      expectError(errorOf(await getAvatar(admin, '00000000-0000-4000-8000-000000000000')), 404, 'NOT_FOUND');
    });

    it('supports Range and If-None-Match', async () => {
      const part = await getAvatar(member, owner.id, { Range: 'bytes=0-3' }).expect(206);
      expect((part.body as Buffer).toString('latin1')).toBe('RIFF');
      expect(part.headers['content-range']).toBe(`bytes 0-3/${image.length}`);
      const res = await getAvatar(member, owner.id, { 'If-None-Match': `"${sha256(image)}"` });
      expect(res.status).toBe(304);
      const past = await getAvatar(member, owner.id, { Range: `bytes=${image.length}-` });
      expect(past.status).toBe(416);
      expect(past.headers['content-range']).toBe(`bytes */${image.length}`);
      expectError(errorOf(past), 416, 'RANGE_NOT_SATISFIABLE');
    });

    it('is 401 without a token and 400 for a non-UUID id', async () => {
      expectUnauthenticated(errorOf(await getAvatar(undefined, owner.id)));
      expectValidationFailed(errorOf(await getAvatar(owner, 'nope')), ['id']);
    });

    it('GET /users/{id} shows avatarUrl', async () => {
      const user = await readUser(admin, owner.id);
      expect(user.avatarUrl).toBe(`${avatarUrl(owner.id)}?v=${sha256(image).slice(0, 16)}`);
    });
  });

  // -------------------------------------------------------------------------------------------
  it('deleting the user removes the avatar file', async () => {
    const me = await registerUser(t);
    await putOk(me, me.id, PNG);
    const key = (await avatarKey(me.id))!;
    expect(await exists(key)).toBe(true);
    expectNoContent(await t.http().delete(userUrl(me.id)).set(bearer(me.accessToken)));
    expect(await exists(key)).toBe(false);
    expect(await avatarKey(me.id)).toBeNull();
    expect(await queued()).toBe(0);
    expectError(errorOf(await getAvatar(admin, me.id)), 404, 'NOT_FOUND');
  });

  it('every stored avatar file belongs to a user, and every avatar has its file', async () => {
    const rows: { avatar_key: string }[] = await t.dataSource.query(
      'SELECT avatar_key FROM users WHERE avatar_key IS NOT NULL',
    );
    expect(await stored()).toEqual(rows.map((r) => r.avatar_key).sort());
  });

  // -------------------------------------------------------------------------------------------
  describe('the OpenAPI document', () => {
    let doc: {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean; content: Record<string, unknown> } }>>;
    };

    beforeAll(async () => {
      doc = (await t.http().get('/docs/openapi.json').expect(200)).body;
    });

    it.each([
      ['/api/v1/tasks/{taskId}/attachments', 'post'],
      ['/api/v1/users/{id}/avatar', 'put'],
    ])('%s %s takes multipart/form-data with a binary `file` (a file picker in Swagger UI)', (path, method) => {
      const body = doc.paths[path][method].requestBody!;
      expect(body.required).toBe(true);
      expect(Object.keys(body.content)).toEqual(['multipart/form-data']);
      const { schema } = body.content['multipart/form-data'] as {
        schema: { type: string; required: string[]; properties: Record<string, { type: string; format: string }> };
      };
      expect(schema.type).toBe('object');
      expect(schema.required).toEqual(['file']);
      expect(Object.keys(schema.properties)).toEqual(['file']);
      expect(schema.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    });
  });
});
