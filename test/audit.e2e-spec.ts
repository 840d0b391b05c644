import { randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { AUDIT_KEYS, AuditEventBody, OrgBody } from './support/bodies';
import {
  etag,
  expectData,
  expectError,
  expectList,
  expectNoContent,
  expectValidationFailed,
  ISO_UTC,
  ListResult,
  UUID,
} from './support/envelope';
import {
  auditCount,
  auditRows,
  auditRowsOfRequest,
  auditUrl,
  membersUrl,
  memberUrl,
  orgApi,
  ORGS,
  orgUrl,
  pause,
  registerUsers,
  requestId,
} from './support/orgs-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, SignedInUser, token } from './support/users';

// ---------------------------------------------------------------------------------------------

/** The event as the API and the table describe it, for the fields a test pins down. */
function expected(
  event: Pick<AuditEventBody, 'orgId' | 'actorId' | 'action' | 'entityType' | 'entityId' | 'changes' | 'requestId'>,
): AuditEventBody {
  return { actorType: 'user', ...event, id: expect.stringMatching(UUID), createdAt: expect.stringMatching(ISO_UTC) };
}

const sortNewestFirst = (events: AuditEventBody[]): AuditEventBody[] =>
  [...events].sort((x, y) =>
    x.createdAt === y.createdAt ? (x.id < y.id ? 1 : -1) : x.createdAt < y.createdAt ? 1 : -1,
  );

const shiftMs = (iso: string, ms: number): string => new Date(new Date(iso).getTime() + ms).toISOString();

// ---------------------------------------------------------------------------------------------

describe('audit trail', () => {
  let t: TestApp;
  let api: ReturnType<typeof orgApi>;
  let owner: SignedInUser;
  let admin: SignedInUser;
  let member: SignedInUser;
  let viewer: SignedInUser;
  let outsider: SignedInUser;
  let extra: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    api = orgApi(t);
    [owner, admin, member, viewer, outsider, extra] = await registerUsers(t, 6, 'Audit');
  });
  afterAll(() => t.close());

  const as = (user: SignedInUser) => bearer(user.accessToken);

  /** A fresh org of `owner` with admin, member and viewer. */
  async function makeOrg(name = `Audited ${token()}`): Promise<OrgBody> {
    const org = await api.createOrg(owner, { name });
    await api.addMember(owner, org.id, admin.email, 'admin');
    await api.addMember(owner, org.id, member.email, 'member');
    await api.addMember(owner, org.id, viewer.email, 'viewer');
    return org;
  }

  /** Sends a request with our own X-Request-Id; checks it is echoed; returns both. */
  async function traced(request: Test, label: string): Promise<{ res: Awaited<Test>; rid: string }> {
    const rid = requestId(label);
    const res = await request.set('X-Request-Id', rid);
    expect(res.headers['x-request-id']).toBe(rid);
    return { res, rid };
  }

  // -------------------------------------------------------------------------------------------
  describe('every write of an org or membership records its event', () => {
    it('creating an org: org.created and membership.created (the owner), with the request id', async () => {
      const name = `Created ${token()}`;
      const slug = `created-${token()}`;
      const { res, rid } = await traced(t.http().post(ORGS).set(as(owner)).send({ name, slug }), 'create');
      const org = expectData<OrgBody>(res, 201);
      const events = await auditRowsOfRequest(t, rid);
      expect(events).toHaveLength(2);
      expect(events).toEqual(
        expect.arrayContaining([
          expected({
            orgId: org.id,
            actorId: owner.id,
            action: 'org.created',
            entityType: 'org',
            entityId: org.id,
            changes: { name: [null, name], slug: [null, slug] },
            requestId: rid,
          }),
          expected({
            orgId: org.id,
            actorId: owner.id,
            action: 'membership.created',
            entityType: 'membership',
            entityId: owner.id,
            changes: { role: [null, 'owner'] },
            requestId: rid,
          }),
        ]),
      );
      // The API shows the same rows as the table.
      const { data } = expectList<AuditEventBody>(await t.http().get(auditUrl(org.id)).set(as(owner)));
      expect(data).toEqual(await auditRows(t, org.id));
      for (const event of data) expect(Object.keys(event).sort()).toEqual(AUDIT_KEYS);
    });

    it('a derived slug is recorded as created', async () => {
      const { res, rid } = await traced(t.http().post(ORGS).set(as(owner)).send({ name: 'Derived Slug Co' }), 'derive');
      const org = expectData<OrgBody>(res, 201);
      const [created] = (await auditRowsOfRequest(t, rid)).filter((e) => e.action === 'org.created');
      expect(created.changes).toEqual({ name: [null, 'Derived Slug Co'], slug: [null, org.slug] });
    });

    it('updating an org: org.updated with exactly the changed fields as [old, new]', async () => {
      const org = await makeOrg();
      const rename = await traced(t.http().patch(orgUrl(org.id)).set(as(admin)).send({ name: 'Renamed' }), 'rename');
      expectData(rename.res);
      expect(await auditRowsOfRequest(t, rename.rid)).toEqual([
        expected({
          orgId: org.id,
          actorId: admin.id,
          action: 'org.updated',
          entityType: 'org',
          entityId: org.id,
          changes: { name: [org.name, 'Renamed'] },
          requestId: rename.rid,
        }),
      ]);

      const slug = `moved-${token()}`;
      const both = await traced(
        t.http().patch(orgUrl(org.id)).set(as(owner)).set('If-Match', etag(2)).send({ name: 'Renamed', slug }),
        'slug',
      );
      expectData(both.res);
      // The name did not change, so only the slug is recorded.
      expect(await auditRowsOfRequest(t, both.rid)).toEqual([
        expected({
          orgId: org.id,
          actorId: owner.id,
          action: 'org.updated',
          entityType: 'org',
          entityId: org.id,
          changes: { slug: [org.slug, slug] },
          requestId: both.rid,
        }),
      ]);

      const twoFields = await traced(
        t
          .http()
          .patch(orgUrl(org.id))
          .set(as(owner))
          .send({ name: 'Third Name', slug: `${slug}-b` }),
        'two',
      );
      expectData(twoFields.res);
      expect((await auditRowsOfRequest(t, twoFields.rid))[0].changes).toEqual({
        name: ['Renamed', 'Third Name'],
        slug: [slug, `${slug}-b`],
      });
    });

    it('a PATCH that changes nothing records nothing', async () => {
      const org = await makeOrg();
      const events = await auditCount(t, org.id);
      const { res, rid } = await traced(
        t.http().patch(orgUrl(org.id)).set(as(owner)).send({ name: org.name, slug: org.slug }),
        'noop',
      );
      expectData(res);
      expect(await auditRowsOfRequest(t, rid)).toEqual([]);
      expect(await auditCount(t, org.id)).toBe(events);
    });

    it('memberships: created, updated and deleted (removed and leaving), each with actor and request id', async () => {
      const org = await makeOrg();
      const base = { orgId: org.id, entityType: 'membership', entityId: extra.id };

      const added = await traced(
        t.http().post(membersUrl(org.id)).set(as(admin)).send({ email: extra.email, role: 'member' }),
        'add',
      );
      expectData(added.res, 201);
      expect(await auditRowsOfRequest(t, added.rid)).toEqual([
        expected({
          ...base,
          actorId: admin.id,
          action: 'membership.created',
          changes: { role: [null, 'member'] },
          requestId: added.rid,
        }),
      ]);

      const changed = await traced(
        t.http().patch(memberUrl(org.id, extra.id)).set(as(owner)).send({ role: 'admin' }),
        'change',
      );
      expectData(changed.res);
      expect(await auditRowsOfRequest(t, changed.rid)).toEqual([
        expected({
          ...base,
          actorId: owner.id,
          action: 'membership.updated',
          changes: { role: ['member', 'admin'] },
          requestId: changed.rid,
        }),
      ]);

      // The same role again changes nothing and records nothing.
      const same = await traced(
        t.http().patch(memberUrl(org.id, extra.id)).set(as(owner)).send({ role: 'admin' }),
        'same',
      );
      expectData(same.res);
      expect(await auditRowsOfRequest(t, same.rid)).toEqual([]);

      const removed = await traced(t.http().delete(memberUrl(org.id, extra.id)).set(as(admin)), 'remove');
      expectNoContent(removed.res);
      expect(await auditRowsOfRequest(t, removed.rid)).toEqual([
        expected({
          ...base,
          actorId: admin.id,
          action: 'membership.deleted',
          changes: { role: ['admin', null] },
          requestId: removed.rid,
        }),
      ]);

      const left = await traced(t.http().delete(memberUrl(org.id, viewer.id)).set(as(viewer)), 'leave');
      expectNoContent(left.res);
      expect(await auditRowsOfRequest(t, left.rid)).toEqual([
        expected({
          orgId: org.id,
          entityType: 'membership',
          entityId: viewer.id,
          actorId: viewer.id,
          action: 'membership.deleted',
          changes: { role: ['viewer', null] },
          requestId: left.rid,
        }),
      ]);
    });

    it('granting and giving up ownership is recorded too', async () => {
      const org = await makeOrg();
      const grant = await traced(
        t.http().post(membersUrl(org.id)).set(as(owner)).send({ email: extra.email, role: 'owner' }),
        'grant',
      );
      expectData(grant.res, 201);
      expect((await auditRowsOfRequest(t, grant.rid))[0]).toMatchObject({
        action: 'membership.created',
        entityId: extra.id,
        changes: { role: [null, 'owner'] },
      });
      const demote = await traced(
        t.http().patch(memberUrl(org.id, owner.id)).set(as(extra)).send({ role: 'member' }),
        'demote',
      );
      expectData(demote.res);
      expect((await auditRowsOfRequest(t, demote.rid))[0]).toMatchObject({
        action: 'membership.updated',
        actorId: extra.id,
        entityId: owner.id,
        changes: { role: ['owner', 'member'] },
      });
    });

    it('deleting a user account records membership.deleted in each of its orgs', async () => {
      const [leaving] = await registerUsers(t, 1, 'Deleted Account');
      const first = await makeOrg();
      const second = await makeOrg();
      await api.addMember(owner, first.id, leaving.email, 'admin');
      await api.addMember(owner, second.id, leaving.email, 'viewer');

      const { res, rid } = await traced(t.http().delete(`/api/v1/users/${leaving.id}`).set(as(leaving)), 'delete-user');
      expectNoContent(res);
      const events = await auditRowsOfRequest(t, rid);
      expect(events).toHaveLength(2);
      expect(events).toEqual(
        expect.arrayContaining(
          [
            [first.id, 'admin'],
            [second.id, 'viewer'],
          ].map(([orgId, role]) =>
            expected({
              orgId,
              actorId: leaving.id,
              action: 'membership.deleted',
              entityType: 'membership',
              entityId: leaving.id,
              changes: { role: [role, null] },
              requestId: rid,
            }),
          ),
        ),
      );
    });

    it('deleting an org records org.deleted; the trail stays in the table after the org is gone', async () => {
      const org = await makeOrg();
      await api.addMember(owner, org.id, extra.email, 'member');
      const before = await auditRows(t, org.id);
      expect(before.map((e) => e.action).sort()).toEqual([
        'membership.created',
        'membership.created',
        'membership.created',
        'membership.created',
        'membership.created',
        'org.created',
      ]);

      const { res, rid } = await traced(t.http().delete(orgUrl(org.id)).set(as(owner)), 'delete-org');
      expectNoContent(res);
      const deleted = expected({
        orgId: org.id,
        actorId: owner.id,
        action: 'org.deleted',
        entityType: 'org',
        entityId: org.id,
        changes: { name: [org.name, null], slug: [org.slug, null] },
        requestId: rid,
      });
      expect(await auditRowsOfRequest(t, rid)).toEqual([deleted]);
      // Every earlier event is still there, untouched; the cascade of memberships adds none.
      const after = await auditRows(t, org.id);
      expect(after).toHaveLength(before.length + 1);
      expect(after.filter((e) => e.requestId !== rid)).toEqual(before);
      // Nobody can read it through the API any more: the org is gone.
      expectError(await t.http().get(auditUrl(org.id)).set(as(owner)), 404, 'NOT_FOUND');
    });

    it('an ill-formed X-Request-Id is replaced, and the replacement is what the event records', async () => {
      const res = await t
        .http()
        .post(ORGS)
        .set(as(owner))
        .set('X-Request-Id', 'has spaces and ümlauts')
        .send({ name: `Bad Rid ${token()}` });
      const org = expectData<OrgBody>(res, 201);
      const generated = res.headers['x-request-id'] as string;
      expect(generated).not.toBe('has spaces and ümlauts');
      expect(generated).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
      const events = await auditRows(t, org.id);
      expect(events).toHaveLength(2);
      for (const e of events) expect(e.requestId).toBe(generated);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('a write that fails leaves no event', () => {
    let org: OrgBody;
    let takenSlug: string;
    beforeAll(async () => {
      org = await makeOrg();
      takenSlug = (await api.createOrg(outsider, { name: 'Slug Holder', slug: `holder-${token()}` })).slug;
      // version 2, so that If-Match "1" is stale
      expectData(await t.http().patch(orgUrl(org.id)).set(as(owner)).send({ name: 'Version Two' }));
    });

    const FAILURES: { name: string; status: number; code: string; send: () => Test }[] = [
      {
        name: 'PATCH org to a taken slug (409)',
        status: 409,
        code: 'CONFLICT',
        send: () => t.http().patch(orgUrl(org.id)).set(as(owner)).send({ name: 'Nope', slug: takenSlug }),
      },
      {
        name: 'POST org with a taken slug (409)',
        status: 409,
        code: 'CONFLICT',
        send: () => t.http().post(ORGS).set(as(member)).send({ name: 'Nope', slug: takenSlug }),
      },
      {
        name: 'PATCH org with a stale If-Match (412)',
        status: 412,
        code: 'PRECONDITION_FAILED',
        send: () => t.http().patch(orgUrl(org.id)).set(as(owner)).set('If-Match', etag(1)).send({ name: 'Nope' }),
      },
      {
        name: 'DELETE org with a stale If-Match (412)',
        status: 412,
        code: 'PRECONDITION_FAILED',
        send: () => t.http().delete(orgUrl(org.id)).set(as(owner)).set('If-Match', etag(1)),
      },
      {
        name: 'PATCH org as a member (403)',
        status: 403,
        code: 'FORBIDDEN',
        send: () => t.http().patch(orgUrl(org.id)).set(as(member)).send({ name: 'Nope' }),
      },
      {
        name: 'DELETE org as an admin (403)',
        status: 403,
        code: 'FORBIDDEN',
        send: () => t.http().delete(orgUrl(org.id)).set(as(admin)),
      },
      {
        name: 'POST an owner as an admin (403)',
        status: 403,
        code: 'FORBIDDEN',
        send: () => t.http().post(membersUrl(org.id)).set(as(admin)).send({ email: extra.email, role: 'owner' }),
      },
      {
        name: 'POST a member as a member (403)',
        status: 403,
        code: 'FORBIDDEN',
        send: () => t.http().post(membersUrl(org.id)).set(as(member)).send({ email: extra.email, role: 'viewer' }),
      },
      {
        name: "PATCH the owner's role as an admin (403)",
        status: 403,
        code: 'FORBIDDEN',
        send: () => t.http().patch(memberUrl(org.id, owner.id)).set(as(admin)).send({ role: 'viewer' }),
      },
      {
        name: 'DELETE another member as a viewer (403)',
        status: 403,
        code: 'FORBIDDEN',
        send: () => t.http().delete(memberUrl(org.id, member.id)).set(as(viewer)),
      },
      {
        name: 'POST an existing member (409)',
        status: 409,
        code: 'CONFLICT',
        send: () => t.http().post(membersUrl(org.id)).set(as(owner)).send({ email: member.email, role: 'admin' }),
      },
      {
        name: 'PATCH the last owner down (409)',
        status: 409,
        code: 'CONFLICT',
        send: () => t.http().patch(memberUrl(org.id, owner.id)).set(as(owner)).send({ role: 'admin' }),
      },
      {
        name: 'DELETE the last owner (409)',
        status: 409,
        code: 'CONFLICT',
        send: () => t.http().delete(memberUrl(org.id, owner.id)).set(as(owner)),
      },
      {
        name: 'DELETE the account of the last owner (409)',
        status: 409,
        code: 'CONFLICT',
        send: () => t.http().delete(`/api/v1/users/${owner.id}`).set(as(owner)),
      },
      {
        name: 'POST a member with an unknown email (404)',
        status: 404,
        code: 'NOT_FOUND',
        send: () =>
          t
            .http()
            .post(membersUrl(org.id))
            .set(as(owner))
            .send({ email: `ghost-${token()}@example.com`, role: 'member' }),
      },
      {
        name: 'PATCH org as a non-member (404)',
        status: 404,
        code: 'NOT_FOUND',
        send: () => t.http().patch(orgUrl(org.id)).set(as(outsider)).send({ name: 'Nope' }),
      },
    ];

    it.each(FAILURES)('$name', async ({ status, code, send }) => {
      const total = await auditCount(t);
      const ofOrg = await auditCount(t, org.id);
      const rid = requestId('fail');
      expectError(await send().set('X-Request-Id', rid), status, code);
      expect(await auditRowsOfRequest(t, rid)).toEqual([]);
      expect(await auditCount(t, org.id)).toBe(ofOrg);
      expect(await auditCount(t)).toBe(total);
    });

    it('and the org is as it was', async () => {
      const read = await api.readOrg(owner, org.id);
      expect(read).toMatchObject({ name: 'Version Two', slug: org.slug, version: 2 });
      expect((await api.members(owner, org.id)).map((m) => [m.userId, m.role])).toEqual([
        [owner.id, 'owner'],
        [admin.id, 'admin'],
        [member.id, 'member'],
        [viewer.id, 'viewer'],
      ]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /orgs/{orgId}/audit-events', () => {
    /**
     * An org with a known history: who did what, in which order. Filters are checked against
     * this set as read from the table.
     */
    let org: OrgBody;
    let all: AuditEventBody[];
    let projectId: string;
    const list = (query: Record<string, string | number>, user: SignedInUser = owner) =>
      t.http().get(auditUrl(org.id)).query(query).set(as(user));
    const fetchAll = async (query: Record<string, string | number>): Promise<AuditEventBody[]> =>
      expectList<AuditEventBody>(await list({ limit: 100, ...query })).data;

    beforeAll(async () => {
      org = await api.createOrg(owner, { name: `History ${token()}` });
      await pause();
      await api.addMember(owner, org.id, admin.email, 'admin');
      await pause();
      await api.addMember(owner, org.id, member.email, 'member');
      await pause();
      await api.addMember(admin, org.id, viewer.email, 'viewer');
      await pause();
      expectData(await t.http().patch(memberUrl(org.id, member.id)).set(as(admin)).send({ role: 'viewer' }));
      await pause();
      expectData(await t.http().patch(orgUrl(org.id)).set(as(owner)).send({ name: 'History Renamed' }));
      await pause();
      projectId = expectData<{ id: string }>(
        await t
          .http()
          .post(`${orgUrl(org.id)}/projects`)
          .set(as(admin))
          .send({ key: 'HIS', name: 'History' }),
        201,
      ).id;
      await pause();
      expectNoContent(await t.http().delete(memberUrl(org.id, viewer.id)).set(as(owner)));
      await pause();
      expectNoContent(await t.http().delete(memberUrl(org.id, member.id)).set(as(member)));
      await pause();
      await api.addMember(admin, org.id, extra.email, 'member');
      await pause();
      all = await auditRows(t, org.id);
    });

    it('holds the known history', () => {
      const summary = [...all].reverse().map((e) => [e.action, e.entityType, e.actorId]);
      // org.created and the owner's membership share one transaction: their order is by id.
      expect(summary.slice(0, 2).sort()).toEqual(
        [
          ['membership.created', 'membership', owner.id],
          ['org.created', 'org', owner.id],
        ].sort(),
      );
      expect(summary.slice(2)).toEqual([
        ['membership.created', 'membership', owner.id],
        ['membership.created', 'membership', owner.id],
        ['membership.created', 'membership', admin.id],
        ['membership.updated', 'membership', admin.id],
        ['org.updated', 'org', owner.id],
        ['project.created', 'project', admin.id],
        ['membership.deleted', 'membership', owner.id],
        ['membership.deleted', 'membership', member.id],
        ['membership.created', 'membership', admin.id],
      ]);
    });

    it('is for admins and owners: member and viewer 403, non-member 404', async () => {
      const team = await makeOrg();
      const get = (user: SignedInUser) => t.http().get(auditUrl(team.id)).query({ entityType: 'org' }).set(as(user));
      for (const user of [owner, admin]) {
        const { data } = expectList<AuditEventBody>(await get(user));
        expect(data.map((e) => e.action)).toEqual(['org.created']);
      }
      expectError(await get(member), 403, 'FORBIDDEN');
      expectError(await get(viewer), 403, 'FORBIDDEN');
      expectError(await get(outsider), 404, 'NOT_FOUND');
      expectError(await t.http().get(auditUrl(randomUUID())).set(as(owner)), 404, 'NOT_FOUND');
      expectError(await t.http().get(auditUrl(team.id)), 401, 'UNAUTHENTICATED');
    });

    it('lists every event newest first, in the contract shape, with the default limit', async () => {
      const { data, page } = expectList<AuditEventBody>(await list({}));
      expect(page).toEqual({ limit: 20, nextCursor: null });
      expect(data).toEqual(all);
      expect(data).toEqual(sortNewestFirst(data));
      for (const e of data) {
        expect(Object.keys(e).sort()).toEqual(AUDIT_KEYS);
        expect(e.id).toMatch(UUID);
        expect(e.orgId).toBe(org.id);
        expect(e.createdAt).toMatch(ISO_UTC);
        expect(typeof e.requestId).toBe('string');
        for (const change of Object.values(e.changes)) expect(change).toHaveLength(2);
      }
    });

    // Queries and predicates are built lazily: the users and the org exist only once beforeAll ran.
    it.each<[string, () => Record<string, string>, (e: AuditEventBody) => boolean]>([
      ['entityType=org', () => ({ entityType: 'org' }), (e) => e.entityType === 'org'],
      ['entityType=membership', () => ({ entityType: 'membership' }), (e) => e.entityType === 'membership'],
      ['entityType=project', () => ({ entityType: 'project' }), (e) => e.entityType === 'project'],
      ['actorId=admin', () => ({ actorId: admin.id }), (e) => e.actorId === admin.id],
      ['actorId=member', () => ({ actorId: member.id }), (e) => e.actorId === member.id],
      ['action=membership.created', () => ({ action: 'membership.created' }), (e) => e.action === 'membership.created'],
      ['action=org.updated', () => ({ action: 'org.updated' }), (e) => e.action === 'org.updated'],
      ['entityId=member', () => ({ entityId: member.id }), (e) => e.entityId === member.id],
      ['entityId=org', () => ({ entityId: org.id }), (e) => e.entityId === org.id],
      ['entityId=project', () => ({ entityId: projectId }), (e) => e.entityId === projectId],
      [
        'entityType=membership & actorId=admin & action=membership.created',
        () => ({ entityType: 'membership', actorId: admin.id, action: 'membership.created' }),
        (e) => e.entityType === 'membership' && e.actorId === admin.id && e.action === 'membership.created',
      ],
      [
        'entityId=member & actorId=admin',
        () => ({ entityId: member.id, actorId: admin.id }),
        (e) => e.entityId === member.id && e.actorId === admin.id,
      ],
      [
        'entityType=org & action=org.created & actorId=owner',
        () => ({ entityType: 'org', action: 'org.created', actorId: owner.id }),
        (e) => e.entityType === 'org' && e.action === 'org.created' && e.actorId === owner.id,
      ],
    ])('filter %s returns exactly the matching events, newest first', async (_label, query, matches) => {
      const want = all.filter(matches);
      expect(want.length).toBeGreaterThan(0);
      expect(want.length).toBeLessThan(all.length);
      expect(await fetchAll(query())).toEqual(want);
    });

    it('filters that match nothing give an empty page', async () => {
      expect(await fetchAll({ entityType: 'task' })).toEqual([]);
      expect(await fetchAll({ action: 'task.deleted' })).toEqual([]);
      expect(await fetchAll({ actorId: outsider.id })).toEqual([]);
      expect(await fetchAll({ entityId: randomUUID() })).toEqual([]);
      expect(await fetchAll({ entityId: projectId, entityType: 'membership' })).toEqual([]);
    });

    it('since and until are inclusive bounds', async () => {
      // A pivot in the middle of the history.
      const pivot = all[Math.floor(all.length / 2)];
      const at = pivot.createdAt;
      const since = all.filter((e) => e.createdAt >= at);
      const until = all.filter((e) => e.createdAt <= at);
      const exactly = all.filter((e) => e.createdAt === at);
      expect(since.length).toBeLessThan(all.length);
      expect(until.length).toBeLessThan(all.length);

      expect(await fetchAll({ since: at })).toEqual(since);
      expect(await fetchAll({ until: at })).toEqual(until);
      expect(await fetchAll({ since: at, until: at })).toEqual(exactly);
      expect(exactly).toContainEqual(pivot);
      // One millisecond either side excludes the pivot's instant.
      expect(await fetchAll({ since: shiftMs(at, 1) })).toEqual(all.filter((e) => e.createdAt > at));
      expect(await fetchAll({ until: shiftMs(at, -1) })).toEqual(all.filter((e) => e.createdAt < at));
      // The same instant with an offset means the same thing.
      const offset = new Date(new Date(at).getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
      expect(await fetchAll({ since: offset })).toEqual(since);
      // Everything, nothing.
      expect(await fetchAll({ since: all[all.length - 1].createdAt, until: all[0].createdAt })).toEqual(all);
      expect(await fetchAll({ since: shiftMs(all[0].createdAt, 1) })).toEqual([]);
      expect(await fetchAll({ since: shiftMs(at, 1), until: at })).toEqual([]);
      // Combined with another filter.
      expect(await fetchAll({ until: at, actorId: admin.id })).toEqual(until.filter((e) => e.actorId === admin.id));
    });

    it.each<[string, Record<string, string | number>, string]>([
      ['entityId that is not a uuid', { entityId: 'not-a-uuid' }, 'entityId'],
      ['actorId that is not a uuid', { actorId: '12345' }, 'actorId'],
      ['unknown entityType', { entityType: 'user' }, 'entityType'],
      ['entityType in upper case', { entityType: 'ORG' }, 'entityType'],
      ['since that is not a date', { since: 'yesterday' }, 'since'],
      ['until that is not a date', { until: '2026-13-45T00:00:00Z' }, 'until'],
      ['action of the wrong form', { action: 'Org Created' }, 'action'],
      ['limit 0', { limit: 0 }, 'limit'],
      ['limit 101', { limit: 101 }, 'limit'],
      ['an unknown parameter', { orgId: randomUUID() }, 'orgId'],
    ])('400 VALIDATION_FAILED for %s', async (_label, query, field) => {
      expectValidationFailed(await list(query), [field]);
    });

    it('walking pages of 2 returns every event exactly once, newest first', async () => {
      const seen: AuditEventBody[] = [];
      let cursor = null as string | null;
      let pages = 0;
      do {
        const { data, page }: ListResult<AuditEventBody> = expectList<AuditEventBody>(
          await list({ limit: 2, ...(cursor ? { cursor } : {}) }),
        );
        expect(page.limit).toBe(2);
        expect(data.length).toBe(page.nextCursor ? 2 : data.length);
        expect(data.length).toBeGreaterThan(0);
        seen.push(...data);
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(Math.ceil(all.length / 2));
      expect(seen).toEqual(all);
      expect(new Set(seen.map((e) => e.id)).size).toBe(all.length);
      expect(all.length).toBe(await auditCount(t, org.id));
    });

    it('walking a filtered list one by one keeps the filter', async () => {
      const want = all.filter((e) => e.entityType === 'membership');
      const seen: AuditEventBody[] = [];
      let cursor = null as string | null;
      do {
        const { data, page }: ListResult<AuditEventBody> = expectList<AuditEventBody>(
          await list({ limit: 1, entityType: 'membership', ...(cursor ? { cursor } : {}) }),
        );
        seen.push(...data);
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(want);
    });

    it('a tampered or foreign cursor is 400 INVALID_CURSOR', async () => {
      const { page } = expectList<AuditEventBody>(await list({ limit: 2 }));
      const cursor = page.nextCursor!;
      expect(typeof cursor).toBe('string');
      const [payload, signature] = cursor.split('.');
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const forged = Buffer.from(
        JSON.stringify({
          ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
          p: ['2000-01-01T00:00:00.000Z', randomUUID()],
        }),
      ).toString('base64url');
      const tampered = [
        `${flip(payload, 5)}.${signature}`,
        `${payload}.${flip(signature, 0)}`,
        `${forged}.${signature}`,
        `${payload}.${signature}.x`,
        'not-a-cursor',
      ];
      for (const bad of tampered) expectError(await list({ limit: 2, cursor: bad }), 400, 'INVALID_CURSOR');
      // Another filter set, another org, another list.
      expectError(await list({ limit: 2, cursor, entityType: 'membership' }), 400, 'INVALID_CURSOR');
      const other = await api.createOrg(owner, { name: `Other History ${token()}` });
      expectError(
        await t.http().get(auditUrl(other.id)).query({ limit: 2, cursor }).set(as(owner)),
        400,
        'INVALID_CURSOR',
      );
      expectError(
        await t.http().get(membersUrl(org.id)).query({ limit: 2, cursor }).set(as(owner)),
        400,
        'INVALID_CURSOR',
      );
      // The genuine cursor still works.
      expect(expectList<AuditEventBody>(await list({ limit: 2, cursor })).data).toEqual(all.slice(2, 4));
    });
  });

  describe('the trail is append-only in the database', () => {
    it.each([
      ['UPDATE', `UPDATE audit_events SET action = 'org.tampered' WHERE org_id = $1`],
      ['DELETE', 'DELETE FROM audit_events WHERE org_id = $1'],
    ])('%s of an event is refused, whoever sends it', async (operation, sql) => {
      const org = await makeOrg();
      const before = await t.dataSource.query('SELECT * FROM audit_events WHERE org_id = $1 ORDER BY id', [org.id]);
      expect(before.length).toBeGreaterThan(0);
      await expect(t.dataSource.query(sql, [org.id])).rejects.toThrow(
        `audit_events is append-only: ${operation} refused`,
      );
      expect(await t.dataSource.query('SELECT * FROM audit_events WHERE org_id = $1 ORDER BY id', [org.id])).toEqual(
        before,
      );
    });

    it('TRUNCATE is refused too, and deleting the org keeps its events', async () => {
      await expect(t.dataSource.query('TRUNCATE audit_events')).rejects.toThrow(
        'audit_events is append-only: TRUNCATE refused',
      );
      const org = await makeOrg();
      const events = await auditRows(t, org.id);
      await t.http().delete(`/api/v1/orgs/${org.id}`).set(as(owner)).expect(204);
      expect((await auditRows(t, org.id)).length).toBe(events.length + 1);
    });
  });
});
