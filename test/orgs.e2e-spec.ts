import { randomUUID } from 'node:crypto';
import type { Response, Test } from 'supertest';
import { MemberBody, OrgBody, OrgRole } from './support/bodies';
import {
  etag,
  expectData,
  expectError,
  expectList,
  expectNoContent,
  expectValidationFailed,
  ListResult,
} from './support/envelope';
import {
  auditCount,
  auditUrl,
  expectMemberShape,
  expectOrgShape,
  expectOutcome,
  membersUrl,
  memberUrl,
  orgApi,
  ORGS,
  orgUrl,
  pause,
  registerUsers,
} from './support/orgs-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, createAdmin, login, SignedInUser, token } from './support/users';

// ---------------------------------------------------------------------------------------------

type Caller = 'owner' | 'admin' | 'member' | 'viewer' | 'nonMember';
const CALLERS: Caller[] = ['owner', 'admin', 'member', 'viewer', 'nonMember'];

/** An org with one member of each role, a further plain member (`target`) and a user outside it. */
interface Team {
  org: OrgBody;
  owner: SignedInUser;
  admin: SignedInUser;
  member: SignedInUser;
  viewer: SignedInUser;
  nonMember: SignedInUser;
  target: SignedInUser;
  newcomer: SignedInUser;
}

/** One route of the role matrix: the request, the exact status per caller, and the side effect. */
interface MatrixRow {
  route: string;
  /** Writes get a fresh team per cell, so that one cell never sees another's change. */
  mutates: boolean;
  /** A list answer: `data` is an array and `meta.page` is set. */
  list?: boolean;
  expected: Record<Caller, number>;
  send: (team: Team, caller: SignedInUser) => Test;
  /** What a successful answer holds. */
  check?: (team: Team, res: Response, caller: Caller) => void;
  /** Checked through the owner's (or the database's) view: the change happened iff the call succeeded. */
  verify?: (team: Team, succeeded: boolean) => Promise<void>;
}

const ids = (items: { id: string }[]): string[] => items.map((i) => i.id);

// ---------------------------------------------------------------------------------------------

describe('orgs and members (/api/v1/orgs)', () => {
  let t: TestApp;
  let api: ReturnType<typeof orgApi>;
  let people: Omit<Team, 'org'>;

  beforeAll(async () => {
    t = await createTestApp();
    api = orgApi(t);
    const [owner, admin, member, viewer, nonMember, target, newcomer] = await registerUsers(t, 7, 'Matrix');
    people = { owner, admin, member, viewer, nonMember, target, newcomer };
  });
  afterAll(() => t.close());

  const as = (user: SignedInUser) => bearer(user.accessToken);
  const roleOf = async (orgId: string, userId: string): Promise<OrgRole | undefined> => {
    const [row]: { role: OrgRole }[] = await t.dataSource.query(
      'SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2',
      [orgId, userId],
    );
    return row?.role;
  };
  const orgExists = async (orgId: string): Promise<boolean> =>
    (await t.dataSource.query('SELECT 1 FROM orgs WHERE id = $1', [orgId])).length === 1;

  /** A fresh org owned by `people.owner`, with admin, member, viewer and target (a member). */
  async function makeTeam(): Promise<Team> {
    const org = await api.createOrg(people.owner, { name: `Matrix ${token()}` });
    // Distinct membership timestamps, so that "oldest first" is one definite order.
    for (const [user, role] of [
      [people.admin, 'admin'],
      [people.member, 'member'],
      [people.viewer, 'viewer'],
      [people.target, 'member'],
    ] as const) {
      await pause();
      await api.addMember(people.owner, org.id, user.email, role);
    }
    return { org, ...people };
  }

  // -------------------------------------------------------------------------------------------
  describe('role matrix', () => {
    const ALL_MEMBERS = { owner: 200, admin: 200, member: 200, viewer: 200, nonMember: 404 };
    const ADMIN_PLUS = { owner: 200, admin: 200, member: 403, viewer: 403, nonMember: 404 };
    const OWNER_ONLY = { owner: 200, admin: 403, member: 403, viewer: 403, nonMember: 404 };

    const MATRIX: MatrixRow[] = [
      {
        route: 'GET /orgs/{orgId}',
        mutates: false,
        expected: ALL_MEMBERS,
        send: (team, caller) => t.http().get(orgUrl(team.org.id)).set(as(caller)),
        check: (team, res) => expect(res.body.data).toEqual(team.org),
      },
      {
        route: 'PATCH /orgs/{orgId} (rename)',
        mutates: true,
        expected: ADMIN_PLUS,
        send: (team, caller) => t.http().patch(orgUrl(team.org.id)).set(as(caller)).send({ name: 'Renamed Org' }),
        verify: async (team, succeeded) => {
          const org = await api.readOrg(team.owner, team.org.id);
          expect(org.name).toBe(succeeded ? 'Renamed Org' : team.org.name);
          expect(org.version).toBe(succeeded ? 2 : 1);
        },
      },
      {
        route: 'DELETE /orgs/{orgId}',
        mutates: true,
        expected: { ...OWNER_ONLY, owner: 204 },
        send: (team, caller) => t.http().delete(orgUrl(team.org.id)).set(as(caller)),
        verify: async (team, succeeded) => expect(await orgExists(team.org.id)).toBe(!succeeded),
      },
      {
        route: 'GET /orgs/{orgId}/members',
        mutates: false,
        list: true,
        expected: ALL_MEMBERS,
        send: (team, caller) => t.http().get(membersUrl(team.org.id)).set(as(caller)),
        check: (team, res) =>
          expect((res.body.data as MemberBody[]).map((m) => m.userId)).toEqual(
            [team.owner, team.admin, team.member, team.viewer, team.target].map((u) => u.id),
          ),
      },
      {
        route: 'POST /orgs/{orgId}/members (role member)',
        mutates: true,
        expected: { ...ADMIN_PLUS, owner: 201, admin: 201 },
        send: (team, caller) =>
          t.http().post(membersUrl(team.org.id)).set(as(caller)).send({ email: team.newcomer.email, role: 'member' }),
        verify: async (team, succeeded) =>
          expect(await roleOf(team.org.id, team.newcomer.id)).toBe(succeeded ? 'member' : undefined),
      },
      {
        route: 'POST /orgs/{orgId}/members (role owner)',
        mutates: true,
        expected: { ...OWNER_ONLY, owner: 201 },
        send: (team, caller) =>
          t.http().post(membersUrl(team.org.id)).set(as(caller)).send({ email: team.newcomer.email, role: 'owner' }),
        verify: async (team, succeeded) =>
          expect(await roleOf(team.org.id, team.newcomer.id)).toBe(succeeded ? 'owner' : undefined),
      },
      {
        route: 'PATCH /orgs/{orgId}/members/{member} (to viewer)',
        mutates: true,
        expected: ADMIN_PLUS,
        send: (team, caller) =>
          t.http().patch(memberUrl(team.org.id, team.target.id)).set(as(caller)).send({ role: 'viewer' }),
        verify: async (team, succeeded) =>
          expect(await roleOf(team.org.id, team.target.id)).toBe(succeeded ? 'viewer' : 'member'),
      },
      {
        route: 'PATCH /orgs/{orgId}/members/{member} (to owner)',
        mutates: true,
        expected: OWNER_ONLY,
        send: (team, caller) =>
          t.http().patch(memberUrl(team.org.id, team.target.id)).set(as(caller)).send({ role: 'owner' }),
        verify: async (team, succeeded) =>
          expect(await roleOf(team.org.id, team.target.id)).toBe(succeeded ? 'owner' : 'member'),
      },
      {
        // The owner is the only owner here: demoting them would orphan the org.
        route: 'PATCH /orgs/{orgId}/members/{sole owner} (to admin)',
        mutates: true,
        expected: { ...OWNER_ONLY, owner: 409 },
        send: (team, caller) =>
          t.http().patch(memberUrl(team.org.id, team.owner.id)).set(as(caller)).send({ role: 'admin' }),
        verify: async (team) => expect(await roleOf(team.org.id, team.owner.id)).toBe('owner'),
      },
      {
        route: 'DELETE /orgs/{orgId}/members/{member}',
        mutates: true,
        expected: { ...ADMIN_PLUS, owner: 204, admin: 204 },
        send: (team, caller) => t.http().delete(memberUrl(team.org.id, team.target.id)).set(as(caller)),
        verify: async (team, succeeded) =>
          expect(await roleOf(team.org.id, team.target.id)).toBe(succeeded ? undefined : 'member'),
      },
      {
        route: 'DELETE /orgs/{orgId}/members/{sole owner}',
        mutates: true,
        expected: { ...OWNER_ONLY, owner: 409 },
        send: (team, caller) => t.http().delete(memberUrl(team.org.id, team.owner.id)).set(as(caller)),
        verify: async (team) => expect(await roleOf(team.org.id, team.owner.id)).toBe('owner'),
      },
      {
        route: 'DELETE /orgs/{orgId}/members/{self} (leave)',
        mutates: true,
        expected: { owner: 409, admin: 204, member: 204, viewer: 204, nonMember: 404 },
        send: (team, caller) => t.http().delete(memberUrl(team.org.id, caller.id)).set(as(caller)),
        verify: async (team, succeeded) => {
          // Whoever left is gone; everybody else is still there.
          const roles = await Promise.all(
            [team.owner, team.admin, team.member, team.viewer].map((u) => roleOf(team.org.id, u.id)),
          );
          expect(roles.filter((r) => r === undefined).length).toBe(succeeded ? 1 : 0);
        },
      },
      {
        route: 'GET /orgs/{orgId}/audit-events',
        mutates: false,
        list: true,
        expected: ADMIN_PLUS,
        send: (team, caller) => t.http().get(auditUrl(team.org.id)).set(as(caller)),
        check: (team, res) => {
          const events = res.body.data as { orgId: string; action: string }[];
          expect(events.length).toBe(6); // org.created and five membership.created
          for (const e of events) expect(e.orgId).toBe(team.org.id);
        },
      },
      {
        route: 'POST /orgs',
        mutates: true,
        expected: { owner: 201, admin: 201, member: 201, viewer: 201, nonMember: 201 },
        send: (_team, caller) =>
          t
            .http()
            .post(ORGS)
            .set(as(caller))
            .send({ name: `Any User ${token()}` }),
        check: (_team, res) => expect(res.headers.location).toBe(`/api/v1/orgs/${res.body.data.id}`),
      },
      {
        route: 'GET /orgs',
        mutates: false,
        list: true,
        // A non-member still lists their own orgs (none of this team's).
        expected: { ...ALL_MEMBERS, nonMember: 200 },
        send: (_team, caller) => t.http().get(ORGS).query({ limit: 100 }).set(as(caller)),
        check: (team, res, caller) =>
          expect(ids(res.body.data as OrgBody[]).includes(team.org.id)).toBe(caller !== 'nonMember'),
      },
    ];

    let shared: Team;
    beforeAll(async () => {
      shared = await makeTeam();
    });

    const cells = MATRIX.flatMap((row) => CALLERS.map((caller) => ({ row, caller, status: row.expected[caller] })));

    it.each(cells)('$row.route as $caller → $status', async ({ row, caller, status }) => {
      const team = row.mutates ? await makeTeam() : shared;
      const events = await auditCount(t, team.org.id);
      const res = await row.send(team, team[caller]);
      expectOutcome(res, status, row.list);
      const succeeded = status < 300;
      if (succeeded && row.check) row.check(team, res, caller);
      if (row.verify) await row.verify(team, succeeded);
      // A refused write leaves no trace in the audit trail either.
      if (!succeeded) expect(await auditCount(t, team.org.id)).toBe(events);
    });

    it('a platform admin has no implicit access to an org', async () => {
      const platformAdmin = await createAdmin(t);
      expectError(await t.http().get(orgUrl(shared.org.id)).set(as(platformAdmin)), 404, 'NOT_FOUND');
      expectError(await t.http().get(membersUrl(shared.org.id)).set(as(platformAdmin)), 404, 'NOT_FOUND');
      expectError(await t.http().get(auditUrl(shared.org.id)).set(as(platformAdmin)), 404, 'NOT_FOUND');
    });

    it('every org route is 401 without a token', async () => {
      const id = shared.org.id;
      const requests = [
        t.http().get(ORGS),
        t.http().post(ORGS).send({ name: 'x' }),
        t.http().get(orgUrl(id)),
        t.http().patch(orgUrl(id)).send({ name: 'x' }),
        t.http().delete(orgUrl(id)),
        t.http().get(membersUrl(id)),
        t.http().post(membersUrl(id)).send({ email: people.newcomer.email, role: 'member' }),
        t.http().patch(memberUrl(id, people.target.id)).send({ role: 'viewer' }),
        t.http().delete(memberUrl(id, people.target.id)),
        t.http().get(auditUrl(id)),
      ];
      for (const res of await Promise.all(requests)) expectError(res, 401, 'UNAUTHENTICATED');
      expect(await roleOf(id, people.target.id)).toBe('member');
    });

    it('malformed ids in the path are 400 naming the parameter', async () => {
      const id = shared.org.id;
      const o = people.owner;
      expectValidationFailed(await t.http().get(orgUrl('not-a-uuid')).set(as(o)), ['orgId']);
      expectValidationFailed(await t.http().patch(orgUrl('123')).set(as(o)).send({ name: 'x' }), ['orgId']);
      expectValidationFailed(await t.http().delete(orgUrl('123')).set(as(o)), ['orgId']);
      expectValidationFailed(await t.http().get(membersUrl('nope')).set(as(o)), ['orgId']);
      expectValidationFailed(await t.http().get(auditUrl('nope')).set(as(o)), ['orgId']);
      expectValidationFailed(await t.http().patch(memberUrl(id, 'nope')).set(as(o)).send({ role: 'viewer' }), [
        'userId',
      ]);
      expectValidationFailed(await t.http().delete(memberUrl(id, 'nope')).set(as(o)), ['userId']);
    });

    it('accepts the org id in upper case (UUIDs are case-insensitive)', async () => {
      const upper = shared.org.id.toUpperCase();
      expect(expectData<OrgBody>(await t.http().get(orgUrl(upper)).set(as(people.member)))).toEqual(shared.org);
      expect(expectList<MemberBody>(await t.http().get(membersUrl(upper)).set(as(people.viewer))).data).toHaveLength(5);
      expectError(await t.http().get(orgUrl(upper)).set(as(people.nonMember)), 404, 'NOT_FOUND');
    });

    it('an unknown org id is 404, like an org of someone else', async () => {
      expectError(await t.http().get(orgUrl(randomUUID())).set(as(people.owner)), 404, 'NOT_FOUND');
      expectError(await t.http().get(membersUrl(randomUUID())).set(as(people.owner)), 404, 'NOT_FOUND');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('tenancy: a member of org B using the real ids of org A', () => {
    let a: Team;
    let bOwner: SignedInUser;
    let b: OrgBody;

    beforeAll(async () => {
      a = await makeTeam();
      [bOwner] = await registerUsers(t, 1, 'Tenant B');
      b = await api.createOrg(bOwner, { name: `Tenant B ${token()}` });
      await api.addMember(bOwner, b.id, people.newcomer.email, 'admin');
    });

    /** Everything about org A that a probe could change. */
    async function snapshotA() {
      return {
        org: await api.readOrg(a.owner, a.org.id),
        members: await api.members(a.owner, a.org.id),
        memberships: await t.dataSource.query(
          'SELECT user_id, role, updated_at FROM memberships WHERE org_id = $1 ORDER BY user_id',
          [a.org.id],
        ),
        orgRow: await t.dataSource.query('SELECT * FROM orgs WHERE id = $1', [a.org.id]),
        events: await auditCount(t, a.org.id),
      };
    }

    it('every org route answers 404 NOT_FOUND and nothing in A changes', async () => {
      const before = await snapshotA();
      const id = a.org.id;
      const probes: [string, () => Test][] = [
        ['GET org', () => t.http().get(orgUrl(id))],
        [
          'PATCH org',
          () =>
            t
              .http()
              .patch(orgUrl(id))
              .send({ name: 'Hijacked', slug: `hijacked-${token()}` }),
        ],
        ['PATCH org with its real ETag', () => t.http().patch(orgUrl(id)).set('If-Match', etag(1)).send({ name: 'X' })],
        ['DELETE org', () => t.http().delete(orgUrl(id))],
        ['DELETE org with its real ETag', () => t.http().delete(orgUrl(id)).set('If-Match', etag(1))],
        ['GET members', () => t.http().get(membersUrl(id))],
        ['GET members page 2', () => t.http().get(membersUrl(id)).query({ limit: 1 })],
        ['POST member (self)', () => t.http().post(membersUrl(id)).send({ email: bOwner.email, role: 'owner' })],
        ['POST member (other)', () => t.http().post(membersUrl(id)).send({ email: a.newcomer.email, role: 'admin' })],
        ['PATCH member', () => t.http().patch(memberUrl(id, a.member.id)).send({ role: 'owner' })],
        ['PATCH owner', () => t.http().patch(memberUrl(id, a.owner.id)).send({ role: 'viewer' })],
        ['PATCH self', () => t.http().patch(memberUrl(id, bOwner.id)).send({ role: 'owner' })],
        ['DELETE member', () => t.http().delete(memberUrl(id, a.member.id))],
        ['DELETE owner', () => t.http().delete(memberUrl(id, a.owner.id))],
        ['DELETE self (leave)', () => t.http().delete(memberUrl(id, bOwner.id))],
        ['GET audit events', () => t.http().get(auditUrl(id))],
        ['GET audit events filtered', () => t.http().get(auditUrl(id)).query({ entityType: 'org', entityId: id })],
      ];
      for (const [name, probe] of probes) {
        const res = await probe().set(as(bOwner));
        expect({ probe: name, status: res.status }).toEqual({ probe: name, status: 404 });
        expectError(res, 404, 'NOT_FOUND');
      }
      expect(await snapshotA()).toEqual(before);
    });

    it('org B routes do not reach members of A either', async () => {
      const before = await snapshotA();
      expectError(
        await t.http().patch(memberUrl(b.id, a.member.id)).set(as(bOwner)).send({ role: 'viewer' }),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http().delete(memberUrl(b.id, a.member.id)).set(as(bOwner)), 404, 'NOT_FOUND');
      expectError(await t.http().delete(memberUrl(b.id, a.owner.id)).set(as(bOwner)), 404, 'NOT_FOUND');
      expect(await snapshotA()).toEqual(before);
    });

    it("A's org never shows up in B's lists, nor B's members in A", async () => {
      const { data } = expectList<OrgBody>(await t.http().get(ORGS).query({ limit: 100 }).set(as(bOwner)));
      expect(ids(data)).toEqual([b.id]);
      const aMembers = await api.members(a.owner, a.org.id);
      expect(aMembers.map((m) => m.userId)).not.toContain(bOwner.id);
      for (const m of aMembers) expect(m.orgId).toBe(a.org.id);
    });

    it("A's audit trail is A's only", async () => {
      const { data } = expectList<{ orgId: string }>(
        await t.http().get(auditUrl(a.org.id)).query({ limit: 100 }).set(as(a.owner)),
      );
      expect(data.length).toBeGreaterThan(0);
      for (const e of data) expect(e.orgId).toBe(a.org.id);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('POST /orgs', () => {
    let creator: SignedInUser;
    beforeAll(async () => {
      [creator] = await registerUsers(t, 1, 'Creator');
    });

    const create = (body: unknown, user = creator) =>
      t
        .http()
        .post(ORGS)
        .set(as(user))
        .send(body as object);
    const orgCount = async (): Promise<number> =>
      (await t.dataSource.query('SELECT count(*)::int AS n FROM orgs'))[0].n;

    it('is 201 with Location and ETag; the creator is its owner; the name is trimmed', async () => {
      const slug = `made-${token()}`;
      const res = await create({ name: '  Made Here  ', slug });
      const org = expectData<OrgBody>(res, 201);
      expectOrgShape(org);
      expect(org).toMatchObject({ name: 'Made Here', slug, version: 1 });
      expect(res.headers.location).toBe(`/api/v1/orgs/${org.id}`);
      expect(res.headers.etag).toBe(etag(1));

      const read = await t.http().get(res.headers.location).set(as(creator));
      expect(expectData<OrgBody>(read)).toEqual(org);
      expect(read.headers.etag).toBe(etag(1));

      const members = await api.members(creator, org.id);
      expect(members).toHaveLength(1);
      expectMemberShape(members[0]);
      expect(members[0]).toMatchObject({
        userId: creator.id,
        orgId: org.id,
        role: 'owner',
        user: { id: creator.id, email: creator.email, name: creator.name },
      });
    });

    it('derives the slug from the name: "Acme Inc." → "acme-inc"; a second one gets a unique slug', async () => {
      const first = expectData<OrgBody>(await create({ name: 'Acme Inc.' }), 201);
      expect(first.slug).toBe('acme-inc');
      const second = expectData<OrgBody>(await create({ name: 'Acme Inc.' }), 201);
      expect(second.slug).not.toBe('acme-inc');
      expect(second.slug).toMatch(/^acme-inc-[a-z0-9-]+$/);
      expect(second.slug).toMatch(/^[a-z0-9-]{2,48}$/);
      const third = expectData<OrgBody>(await create({ name: 'Acme Inc.' }, people.nonMember), 201);
      expect(new Set([first.slug, second.slug, third.slug]).size).toBe(3);
      expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    });

    it('derives a valid slug from long names and names without letters', async () => {
      const long = expectData<OrgBody>(await create({ name: `${'Very Long Name '.repeat(6)}${token()}` }), 201);
      expect(long.slug).toMatch(/^[a-z0-9-]{2,48}$/);
      const odd = expectData<OrgBody>(await create({ name: `Ünïcødé & Co ${token()}` }), 201);
      expect(odd.slug).toMatch(/^[a-z0-9-]{2,48}$/);
      const one = expectData<OrgBody>(await create({ name: 'Q' }), 201);
      expect(one.slug).toMatch(/^[a-z0-9-]{2,48}$/);
    });

    it('an explicit slug that is taken is 409 CONFLICT and creates nothing', async () => {
      const slug = `taken-${token()}`;
      expectData<OrgBody>(await create({ name: 'First', slug }), 201);
      const orgs = await orgCount();
      const events = await auditCount(t);
      expectError(await create({ name: 'Second', slug }, people.nonMember), 409, 'CONFLICT');
      expect(await orgCount()).toBe(orgs);
      expect(await auditCount(t)).toBe(events);
    });

    it('accepts slugs of 2 and 48 characters', async () => {
      // The database is this file's own, and no other test makes a two-character slug.
      expect(expectData<OrgBody>(await create({ name: 'Two', slug: 'q7' }), 201).slug).toBe('q7');
      const fortyEight = `s${token()}`.padEnd(48, 'x');
      expect(expectData<OrgBody>(await create({ name: 'Long Slug', slug: fortyEight }), 201).slug).toBe(fortyEight);
    });

    it.each([
      ['upper case', 'Acme-Inc'],
      ['one character', 'a'],
      ['49 characters', 'a'.repeat(49)],
      ['spaces', 'acme inc'],
      ['underscore', 'acme_inc'],
      ['empty', ''],
      ['a number', 42],
      ['null', null],
    ])('an invalid slug (%s) is 400 with details', async (_label, slug) => {
      const orgs = await orgCount();
      expectValidationFailed(await create({ name: 'Bad Slug', slug }), ['slug']);
      expect(await orgCount()).toBe(orgs);
    });

    it.each([
      ['empty', ''],
      ['whitespace only', '   \t '],
      ['missing', undefined],
      ['a number', 123],
      ['null', null],
      ['101 characters', 'n'.repeat(101)],
    ])('an invalid name (%s) is 400 naming name', async (_label, name) => {
      expectValidationFailed(await create(name === undefined ? {} : { name }), ['name']);
    });

    it('an unknown property is 400 naming it', async () => {
      const orgs = await orgCount();
      expectValidationFailed(await create({ name: 'Extra', owner: people.owner.id }), ['owner']);
      expectValidationFailed(await create({ name: 'Extra', version: 5 }), ['version']);
      expect(await orgCount()).toBe(orgs);
    });

    it('a body that is not JSON is 400 MALFORMED_BODY', async () => {
      const res = await t.http().post(ORGS).set(as(creator)).set('Content-Type', 'application/json').send('{"name":');
      expectError(res, 400, 'MALFORMED_BODY');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /orgs', () => {
    let lister: SignedInUser;
    let other: SignedInUser;
    let mine: OrgBody[];
    const run = token();

    beforeAll(async () => {
      [lister, other] = await registerUsers(t, 2, 'Lister');
      mine = [];
      // Names differing early, in letters only, sort the same under any collation; two share a name.
      for (const name of ['Delta', 'Alpha', 'Echo', 'Charlie', 'Bravo', 'Bravo']) {
        mine.push(await api.createOrg(lister, { name: `Ls${run} ${name}` }));
      }
      // One the lister belongs to as a viewer, and some they do not belong to at all.
      const joined = await api.createOrg(other, { name: `Ls${run} Foxtrot` });
      await api.addMember(other, joined.id, lister.email, 'viewer');
      mine.push(await api.readOrg(lister, joined.id));
      await api.createOrg(other, { name: `Ls${run} Golf` });
      await api.createOrg(other, { name: `Ls${run} Aardvark` });
    });

    const byName = (x: OrgBody, y: OrgBody) => (x.name === y.name ? (x.id < y.id ? -1 : 1) : x.name < y.name ? -1 : 1);
    const byCreated = (x: OrgBody, y: OrgBody) =>
      x.createdAt === y.createdAt ? (x.id < y.id ? -1 : 1) : x.createdAt < y.createdAt ? -1 : 1;

    /** Every page of the list, checking each page's size and the last page's null cursor. */
    async function walk(query: Record<string, string | number>): Promise<OrgBody[]> {
      const seen: OrgBody[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Response = await t
          .http()
          .get(ORGS)
          .query({ ...query, ...(cursor ? { cursor } : {}) })
          .set(as(lister));
        const { data, page }: ListResult<OrgBody> = expectList<OrgBody>(res);
        expect(page.limit).toBe(query.limit ?? 20);
        if (page.nextCursor) expect(data).toHaveLength(Number(query.limit));
        seen.push(...data);
        cursor = page.nextCursor;
        expect(++pages).toBeLessThan(20);
      } while (cursor);
      return seen;
    }

    it('lists exactly the orgs the caller belongs to, by name by default', async () => {
      const { data, page } = expectList<OrgBody>(await t.http().get(ORGS).set(as(lister)));
      expect(page).toEqual({ limit: 20, nextCursor: null });
      data.forEach(expectOrgShape);
      expect(ids(data)).toEqual(ids([...mine].sort(byName)));
      expect(data.find((o) => o.name.endsWith('Foxtrot'))).toEqual(mine[mine.length - 1]);
    });

    it.each([
      ['name', (x: OrgBody[]) => x.sort(byName)],
      ['-name', (x: OrgBody[]) => x.sort(byName).reverse()],
      ['createdAt', (x: OrgBody[]) => x.sort(byCreated)],
      ['-createdAt', (x: OrgBody[]) => x.sort(byCreated).reverse()],
    ])('sort=%s walks every page once, in order (limits 1, 2, 3)', async (sort, order) => {
      const expected = ids(order([...mine]));
      for (const limit of [1, 2, 3]) {
        const seen = await walk({ sort, limit });
        expect(ids(seen)).toEqual(expected);
      }
    });

    it('a user in no org gets an empty list', async () => {
      const [loner] = await registerUsers(t, 1, 'Loner');
      const { data, page } = expectList<OrgBody>(await t.http().get(ORGS).set(as(loner)));
      expect(data).toEqual([]);
      expect(page.nextCursor).toBeNull();
    });

    it('rejects bad sort and limit values with 400', async () => {
      expectValidationFailed(await t.http().get(ORGS).query({ sort: 'slug' }).set(as(lister)), ['sort']);
      expectValidationFailed(await t.http().get(ORGS).query({ limit: 0 }).set(as(lister)), ['limit']);
      expectValidationFailed(await t.http().get(ORGS).query({ limit: 101 }).set(as(lister)), ['limit']);
      expectValidationFailed(await t.http().get(ORGS).query({ limit: 'ten' }).set(as(lister)), ['limit']);
      expectValidationFailed(await t.http().get(ORGS).query({ q: 'x' }).set(as(lister)), ['q']);
    });

    it('a tampered cursor, or one from another sort or another user, is 400 INVALID_CURSOR', async () => {
      const { page } = expectList<OrgBody>(await t.http().get(ORGS).query({ limit: 2 }).set(as(lister)));
      const cursor = page.nextCursor!;
      expect(typeof cursor).toBe('string');
      const [payload, signature] = cursor.split('.');
      const flipped = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      for (const bad of [flipped(payload, 3) + '.' + signature, payload + '.' + flipped(signature, 2), 'garbage']) {
        expectError(await t.http().get(ORGS).query({ limit: 2, cursor: bad }).set(as(lister)), 400, 'INVALID_CURSOR');
      }
      expectError(
        await t.http().get(ORGS).query({ limit: 2, cursor, sort: '-name' }).set(as(lister)),
        400,
        'INVALID_CURSOR',
      );
      expectError(await t.http().get(ORGS).query({ limit: 2, cursor }).set(as(other)), 400, 'INVALID_CURSOR');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PATCH /orgs/{orgId}', () => {
    let team: Team;
    beforeEach(async () => {
      team = await makeTeam();
    });

    const patch = (body: object, user: SignedInUser = team.owner, ifMatch?: string) => {
      const req = t.http().patch(orgUrl(team.org.id)).set(as(user));
      if (ifMatch !== undefined) req.set('If-Match', ifMatch);
      return req.send(body);
    };

    it('renames (trimmed), increments the version and returns the new ETag', async () => {
      const res = await patch({ name: '  New Name  ' });
      const org = expectData<OrgBody>(res);
      expectOrgShape(org);
      expect(org).toMatchObject({ id: team.org.id, name: 'New Name', slug: team.org.slug, version: 2 });
      expect(res.headers.etag).toBe(etag(2));
      expect(org.createdAt).toBe(team.org.createdAt);
      expect(org.updatedAt >= team.org.updatedAt).toBe(true);
      expect(await api.readOrg(team.member, team.org.id)).toEqual(org);

      const again = expectData<OrgBody>(await patch({ name: 'Newer Name' }, team.admin));
      expect(again.version).toBe(3);
    });

    it('changes the slug; a slug taken by another org is 409 and changes nothing', async () => {
      const slug = `renamed-${token()}`;
      expect(expectData<OrgBody>(await patch({ slug })).slug).toBe(slug);
      const other = await api.createOrg(people.nonMember, { name: 'Other', slug: `other-${token()}` });
      const before = await api.readOrg(team.owner, team.org.id);
      const events = await auditCount(t, team.org.id);
      expectError(await patch({ slug: other.slug, name: 'Should Not Stick' }), 409, 'CONFLICT');
      expect(await api.readOrg(team.owner, team.org.id)).toEqual(before);
      expect(await auditCount(t, team.org.id)).toBe(events);
      expect((await api.readOrg(people.nonMember, other.id)).slug).toBe(other.slug);
    });

    it('If-Match: a stale ETag is 412 PRECONDITION_FAILED and nothing changes', async () => {
      expectData<OrgBody>(await patch({ name: 'Version Two' }, team.owner, etag(1)));
      const before = await api.readOrg(team.owner, team.org.id);
      expect(before.version).toBe(2);
      const events = await auditCount(t, team.org.id);
      expectError(await patch({ name: 'Stale' }, team.owner, etag(1)), 412, 'PRECONDITION_FAILED');
      expectError(await patch({ name: 'Stale' }, team.owner, etag(3)), 412, 'PRECONDITION_FAILED');
      expectError(await patch({ name: 'Stale' }, team.owner, 'garbage'), 412, 'PRECONDITION_FAILED');
      expect(await api.readOrg(team.owner, team.org.id)).toEqual(before);
      expect(await auditCount(t, team.org.id)).toBe(events);

      const res = await patch({ name: 'Version Three' }, team.owner, etag(2));
      expect(expectData<OrgBody>(res).version).toBe(3);
      expect(res.headers.etag).toBe(etag(3));
      expect(expectData<OrgBody>(await patch({ name: 'Version Four' }, team.owner, '*')).version).toBe(4);
      expect(expectData<OrgBody>(await patch({ name: 'Version Five' }, team.owner, `"1", "4"`)).version).toBe(5);
    });

    it('a PATCH that changes nothing keeps the version', async () => {
      const same = expectData<OrgBody>(await patch({ name: team.org.name, slug: team.org.slug }));
      expect(same).toEqual(team.org);
      expect(expectData<OrgBody>(await patch({})).version).toBe(1);
    });

    it('rejects invalid fields with 400 naming them, changing nothing', async () => {
      expectValidationFailed(await patch({ name: '' }), ['name']);
      expectValidationFailed(await patch({ name: '   ' }), ['name']);
      expectValidationFailed(await patch({ name: null }), ['name']);
      expectValidationFailed(await patch({ slug: 'UPPER' }), ['slug']);
      expectValidationFailed(await patch({ slug: 'x' }), ['slug']);
      expectValidationFailed(await patch({ slug: null }), ['slug']);
      expectValidationFailed(await patch({ name: 'Fine', id: randomUUID() }), ['id']);
      expect(await api.readOrg(team.owner, team.org.id)).toEqual(team.org);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DELETE /orgs/{orgId}', () => {
    it('by the owner: 204; the org, its projects and memberships are gone, its audit trail stays', async () => {
      const team = await makeTeam();
      const orgId = team.org.id;
      const project = expectData<{ id: string }>(
        await t
          .http()
          .post(`${orgUrl(orgId)}/projects`)
          .set(as(team.owner))
          .send({ key: 'DEL', name: 'Doomed' }),
        201,
      );
      const eventsBefore = await auditCount(t, orgId);
      expect(eventsBefore).toBeGreaterThan(0);

      expectNoContent(await t.http().delete(orgUrl(orgId)).set(as(team.owner)));

      for (const user of [team.owner, team.admin, team.member, team.viewer]) {
        expectError(await t.http().get(orgUrl(orgId)).set(as(user)), 404, 'NOT_FOUND');
        expectError(await t.http().get(membersUrl(orgId)).set(as(user)), 404, 'NOT_FOUND');
        const { data } = expectList<OrgBody>(await t.http().get(ORGS).query({ limit: 100 }).set(as(user)));
        expect(ids(data)).not.toContain(orgId);
      }
      expectError(await t.http().get(`/api/v1/projects/${project.id}`).set(as(team.owner)), 404, 'NOT_FOUND');
      expectError(await t.http().get(auditUrl(orgId)).set(as(team.owner)), 404, 'NOT_FOUND');
      expectError(await t.http().delete(orgUrl(orgId)).set(as(team.owner)), 404, 'NOT_FOUND');

      const count = async (table: string) =>
        (await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table} WHERE org_id = $1`, [orgId]))[0].n;
      expect(await count('memberships')).toBe(0);
      expect(await count('projects')).toBe(0);
      expect((await t.dataSource.query('SELECT 1 FROM orgs WHERE id = $1', [orgId])).length).toBe(0);
      // The trail outlives the org: every earlier event plus org.deleted.
      expect(await count('audit_events')).toBe(eventsBefore + 1);
    });

    it('If-Match: stale → 412 and the org stays; current → 204', async () => {
      const team = await makeTeam();
      expectData<OrgBody>(await t.http().patch(orgUrl(team.org.id)).set(as(team.owner)).send({ name: 'V2' }));
      expectError(
        await t.http().delete(orgUrl(team.org.id)).set(as(team.owner)).set('If-Match', etag(1)),
        412,
        'PRECONDITION_FAILED',
      );
      expect((await api.readOrg(team.owner, team.org.id)).version).toBe(2);
      expect(await api.members(team.owner, team.org.id)).toHaveLength(5);
      expectNoContent(await t.http().delete(orgUrl(team.org.id)).set(as(team.owner)).set('If-Match', etag(2)));
      expect(await orgExists(team.org.id)).toBe(false);
    });

    it('a second owner may delete it too; its slug becomes free again', async () => {
      const slug = `reuse-${token()}`;
      const org = await api.createOrg(people.owner, { name: 'Reusable', slug });
      await api.addMember(people.owner, org.id, people.target.email, 'owner');
      expectNoContent(await t.http().delete(orgUrl(org.id)).set(as(people.target)));
      expect(
        expectData<OrgBody>(await t.http().post(ORGS).set(as(people.owner)).send({ name: 'R', slug }), 201).slug,
      ).toBe(slug);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('members', () => {
    let team: Team;
    beforeEach(async () => {
      team = await makeTeam();
    });

    const add = (caller: SignedInUser, body: object) =>
      t.http().post(membersUrl(team.org.id)).set(as(caller)).send(body);
    const change = (caller: SignedInUser, userId: string, role: unknown) =>
      t.http().patch(memberUrl(team.org.id, userId)).set(as(caller)).send({ role });
    const remove = (caller: SignedInUser, userId: string) =>
      t.http().delete(memberUrl(team.org.id, userId)).set(as(caller));

    it('adds an existing user by email: 201, Location, the member with its user', async () => {
      const res = await add(team.admin, { email: team.newcomer.email.toUpperCase(), role: 'viewer' });
      const member = expectData<MemberBody>(res, 201);
      expectMemberShape(member);
      expect(member).toEqual({
        userId: team.newcomer.id,
        orgId: team.org.id,
        role: 'viewer',
        user: { id: team.newcomer.id, email: team.newcomer.email, name: team.newcomer.name },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(res.headers.location).toBe(`/api/v1/orgs/${team.org.id}/members/${team.newcomer.id}`);
      // Location points at something: the member, readable by any member, 404 for others.
      expect(expectData<MemberBody>(await t.http().get(res.headers.location).set(as(team.viewer)), 200)).toEqual(
        member,
      );
      expect((await t.http().get(res.headers.location).set(as(team.nonMember))).status).toBe(404);
      expect((await t.http().get(memberUrl(team.org.id, team.nonMember.id)).set(as(team.owner))).status).toBe(404);
      expect(await api.members(team.owner, team.org.id)).toContainEqual(member);
      // The new member sees the org now.
      expect((await api.readOrg(team.newcomer, team.org.id)).id).toBe(team.org.id);
    });

    it('lists members oldest first with the member shape, paging with small limits', async () => {
      const all = await api.members(team.viewer, team.org.id);
      expect(all.map((m) => [m.userId, m.role])).toEqual([
        [team.owner.id, 'owner'],
        [team.admin.id, 'admin'],
        [team.member.id, 'member'],
        [team.viewer.id, 'viewer'],
        [team.target.id, 'member'],
      ]);
      all.forEach(expectMemberShape);
      for (const limit of [1, 2]) {
        const seen: MemberBody[] = [];
        let cursor: string | null = null;
        do {
          const { data, page }: ListResult<MemberBody> = expectList<MemberBody>(
            await t
              .http()
              .get(membersUrl(team.org.id))
              .query({ limit, ...(cursor ? { cursor } : {}) })
              .set(as(team.member)),
          );
          seen.push(...data);
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toEqual(all);
      }
    });

    it('an unknown email is 404, an existing member 409, a bad body 400', async () => {
      const before = await api.members(team.owner, team.org.id);
      expectError(await add(team.owner, { email: `nobody-${token()}@example.com`, role: 'member' }), 404, 'NOT_FOUND');
      expectError(await add(team.owner, { email: team.member.email, role: 'admin' }), 409, 'CONFLICT');
      expectError(await add(team.owner, { email: team.owner.email, role: 'owner' }), 409, 'CONFLICT');
      expectValidationFailed(await add(team.owner, { email: team.newcomer.email, role: 'boss' }), ['role']);
      expectValidationFailed(await add(team.owner, { email: team.newcomer.email }), ['role']);
      expectValidationFailed(await add(team.owner, { email: 'not-an-email', role: 'member' }), ['email']);
      expectValidationFailed(
        await add(team.owner, { email: team.newcomer.email, role: 'member', userId: team.newcomer.id }),
        ['userId'],
      );
      expect(await api.members(team.owner, team.org.id)).toEqual(before);
    });

    it('only an owner adds an owner', async () => {
      expectError(await add(team.admin, { email: team.newcomer.email, role: 'owner' }), 403, 'FORBIDDEN');
      expect(await roleOf(team.org.id, team.newcomer.id)).toBeUndefined();
      const added = expectData<MemberBody>(await add(team.owner, { email: team.newcomer.email, role: 'owner' }), 201);
      expect(added.role).toBe('owner');
    });

    it('role changes: admins manage non-owners; only an owner grants or changes owner', async () => {
      // admin: member → admin → viewer
      expect(expectData<MemberBody>(await change(team.admin, team.target.id, 'admin')).role).toBe('admin');
      const changed = expectData<MemberBody>(await change(team.admin, team.target.id, 'viewer'));
      expectMemberShape(changed);
      expect(changed).toMatchObject({ userId: team.target.id, orgId: team.org.id, role: 'viewer' });
      expect(changed.user).toEqual({ id: team.target.id, email: team.target.email, name: team.target.name });

      // admin cannot make an owner, nor change an owner
      expectError(await change(team.admin, team.target.id, 'owner'), 403, 'FORBIDDEN');
      expect(await roleOf(team.org.id, team.target.id)).toBe('viewer');
      expectError(await change(team.admin, team.owner.id, 'member'), 403, 'FORBIDDEN');
      expect(await roleOf(team.org.id, team.owner.id)).toBe('owner');

      // the owner can do both
      expect(expectData<MemberBody>(await change(team.owner, team.target.id, 'owner')).role).toBe('owner');
      expectError(await change(team.admin, team.target.id, 'admin'), 403, 'FORBIDDEN');
      expect(expectData<MemberBody>(await change(team.owner, team.target.id, 'member')).role).toBe('member');
    });

    it('role changes: unknown member 404, bad role 400, same role 200', async () => {
      expectError(await change(team.owner, team.newcomer.id, 'viewer'), 404, 'NOT_FOUND');
      expectError(await change(team.owner, randomUUID(), 'viewer'), 404, 'NOT_FOUND');
      expectValidationFailed(await change(team.owner, team.target.id, 'superuser'), ['role']);
      expectValidationFailed(await change(team.owner, team.target.id, undefined), ['role']);
      expectValidationFailed(
        await t.http().patch(memberUrl(team.org.id, team.target.id)).set(as(team.owner)).send({ role: 'viewer', x: 1 }),
        ['x'],
      );
      expect(await roleOf(team.org.id, team.target.id)).toBe('member');
      expect(expectData<MemberBody>(await change(team.owner, team.target.id, 'member')).role).toBe('member');
    });

    it('the last owner can be neither demoted nor removed (409)', async () => {
      expectError(await change(team.owner, team.owner.id, 'admin'), 409, 'CONFLICT');
      expectError(await remove(team.owner, team.owner.id), 409, 'CONFLICT');
      expect(await roleOf(team.org.id, team.owner.id)).toBe('owner');
      expect(await api.members(team.owner, team.org.id)).toHaveLength(5);
    });

    it('with two owners one may leave, then the other cannot', async () => {
      await api.addMember(team.owner, team.org.id, team.newcomer.email, 'owner');
      expectNoContent(await remove(team.newcomer, team.newcomer.id));
      expectError(await remove(team.owner, team.owner.id), 409, 'CONFLICT');
      expect(await roleOf(team.org.id, team.owner.id)).toBe('owner');
    });

    it('with two owners one may demote the other, then not themselves', async () => {
      await api.addMember(team.owner, team.org.id, team.newcomer.email, 'owner');
      expect(expectData<MemberBody>(await change(team.newcomer, team.owner.id, 'admin')).role).toBe('admin');
      expectError(await change(team.newcomer, team.newcomer.id, 'member'), 409, 'CONFLICT');
      expectError(await remove(team.newcomer, team.newcomer.id), 409, 'CONFLICT');
      // an admin (the former owner) can no longer touch the owner
      expectError(await remove(team.owner, team.newcomer.id), 403, 'FORBIDDEN');
    });

    it('an owner removes another owner; an admin cannot', async () => {
      await api.addMember(team.owner, team.org.id, team.newcomer.email, 'owner');
      expectError(await remove(team.admin, team.newcomer.id), 403, 'FORBIDDEN');
      expect(await roleOf(team.org.id, team.newcomer.id)).toBe('owner');
      expectNoContent(await remove(team.owner, team.newcomer.id));
      expect(await roleOf(team.org.id, team.newcomer.id)).toBeUndefined();
    });

    it('a viewer and a member may leave (204); afterwards the org is 404 for them', async () => {
      for (const leaver of [team.viewer, team.member]) {
        expectNoContent(await remove(leaver, leaver.id));
        expectError(await t.http().get(orgUrl(team.org.id)).set(as(leaver)), 404, 'NOT_FOUND');
        expectError(await t.http().get(membersUrl(team.org.id)).set(as(leaver)), 404, 'NOT_FOUND');
        expectError(await remove(leaver, leaver.id), 404, 'NOT_FOUND');
        const { data } = expectList<OrgBody>(await t.http().get(ORGS).query({ limit: 100 }).set(as(leaver)));
        expect(ids(data)).not.toContain(team.org.id);
      }
      const left = (await api.members(team.owner, team.org.id)).map((m) => m.userId);
      expect(left).toEqual([team.owner.id, team.admin.id, team.target.id]);
    });

    it('a viewer or member cannot remove someone else (403); removing a non-member is 404', async () => {
      expectError(await remove(team.viewer, team.target.id), 403, 'FORBIDDEN');
      expectError(await remove(team.member, team.target.id), 403, 'FORBIDDEN');
      expectError(await remove(team.owner, team.newcomer.id), 404, 'NOT_FOUND');
      expect(await roleOf(team.org.id, team.target.id)).toBe('member');
    });

    it('accepts the user id in upper case (leaving oneself)', async () => {
      expectNoContent(await remove(team.viewer, team.viewer.id.toUpperCase()));
      expect(await roleOf(team.org.id, team.viewer.id)).toBeUndefined();
    });

    it('an admin removed from the org loses access at once', async () => {
      expectNoContent(await remove(team.owner, team.admin.id));
      expectError(await t.http().get(orgUrl(team.org.id)).set(as(team.admin)), 404, 'NOT_FOUND');
      expectError(await add(team.admin, { email: team.newcomer.email, role: 'member' }), 404, 'NOT_FOUND');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('the last owner under concurrency', () => {
    const ROUNDS = 8;
    const ownersOf = async (orgId: string): Promise<string[]> =>
      (await t.dataSource.query(`SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'`, [orgId])).map(
        (r: { user_id: string }) => r.user_id,
      );

    /** Two owners step down at the same moment: exactly one succeeds, the other gets 409. */
    async function race(
      label: string,
      success: number,
      stepDown: (orgId: string, me: SignedInUser, other: SignedInUser, index: number) => Test,
      users: () => Promise<SignedInUser[]>,
    ): Promise<void> {
      for (let round = 0; round < ROUNDS; round++) {
        const [first, second] = await users();
        const org = await api.createOrg(first, { name: `Race ${label} ${token()}` });
        await api.addMember(first, org.id, second.email, 'owner');
        const results = await Promise.all([stepDown(org.id, first, second, 0), stepDown(org.id, second, first, 1)]);
        const statuses = results.map((r) => r.status).sort();
        expect({ round, statuses, bodies: results.map((r) => r.body) }).toMatchObject({
          round,
          statuses: [success, 409].sort(),
        });
        for (const res of results) expectOutcome(res, res.status);
        expect(await ownersOf(org.id)).toHaveLength(1);
      }
    }

    it('two owners leaving at once: one 204, one 409, one owner left', async () => {
      const [x, y] = await registerUsers(t, 2, 'Racer');
      await race(
        'leave',
        204,
        (orgId, me) => t.http().delete(memberUrl(orgId, me.id)).set(as(me)),
        async () => [x, y],
      );
    });

    it('two owners demoting each other at once: one 200, one 409, one owner left', async () => {
      const [x, y] = await registerUsers(t, 2, 'Demoter');
      await race(
        'demote',
        200,
        (orgId, me, other) => t.http().patch(memberUrl(orgId, other.id)).set(as(me)).send({ role: 'admin' }),
        async () => [x, y],
      );
    });

    it('one owner leaving while the other deletes their account: one 204, one 409, one owner left', async () => {
      await race(
        'mixed',
        204,
        (orgId, me, _other, index) =>
          index === 0
            ? t.http().delete(memberUrl(orgId, me.id)).set(as(me))
            : t.http().delete(`/api/v1/users/${me.id}`).set(as(me)),
        () => registerUsers(t, 2, 'Mixed'),
      );
    });

    it('two owners deleting their accounts at once: one 204, one 409, one owner left', async () => {
      await race(
        'accounts',
        204,
        (_orgId, me) => t.http().delete(`/api/v1/users/${me.id}`).set(as(me)),
        () => registerUsers(t, 2, 'Quitter'),
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('deleting a user account (DELETE /api/v1/users/{id})', () => {
    const deleteUser = (user: SignedInUser) => t.http().delete(`/api/v1/users/${user.id}`).set(as(user));

    it('is 409 for the last owner of an org, and nothing changes', async () => {
      const [soleOwner, colleague] = await registerUsers(t, 2, 'Sole');
      const org = await api.createOrg(soleOwner, { name: `Sole ${token()}` });
      await api.addMember(soleOwner, org.id, colleague.email, 'admin');
      // Also a plain member elsewhere: that membership must survive the refused deletion too.
      const elsewhere = await api.createOrg(colleague, { name: `Elsewhere ${token()}` });
      await api.addMember(colleague, elsewhere.id, soleOwner.email, 'member');
      const members = await api.members(soleOwner, org.id);
      const events = await auditCount(t);

      expectError(await deleteUser(soleOwner), 409, 'CONFLICT');

      expect(await api.members(soleOwner, org.id)).toEqual(members);
      expect(await roleOf(elsewhere.id, soleOwner.id)).toBe('member');
      expect(await auditCount(t)).toBe(events);
      expect((await api.readOrg(soleOwner, org.id)).id).toBe(org.id);
      await login(t, soleOwner.email, soleOwner.password);
    });

    it('is 204 when another owner exists; the user leaves every org', async () => {
      const [leaving, coOwner] = await registerUsers(t, 2, 'Leaving');
      const org = await api.createOrg(coOwner, { name: `Shared ${token()}` });
      await api.addMember(coOwner, org.id, leaving.email, 'owner');
      const other = await api.createOrg(coOwner, { name: `Other ${token()}` });
      await api.addMember(coOwner, other.id, leaving.email, 'viewer');

      expectNoContent(await deleteUser(leaving));

      for (const orgId of [org.id, other.id]) {
        const members = await api.members(coOwner, orgId);
        expect(members.map((m) => m.userId)).toEqual([coOwner.id]);
        expect(await roleOf(orgId, leaving.id)).toBeUndefined();
      }
      // A deleted account cannot be added again by email.
      expectError(
        await t.http().post(membersUrl(org.id)).set(as(coOwner)).send({ email: leaving.email, role: 'member' }),
        404,
        'NOT_FOUND',
      );
    });

    it('a user who only owned orgs together with others, and was last owner nowhere, can be deleted by an admin', async () => {
      const platformAdmin = await createAdmin(t);
      const [user, coOwner] = await registerUsers(t, 2, 'AdminDeletes');
      const org = await api.createOrg(user, { name: `Co ${token()}` });
      await api.addMember(user, org.id, coOwner.email, 'owner');
      const res = await t.http().delete(`/api/v1/users/${user.id}`).set(as(platformAdmin));
      expectNoContent(res);
      expect((await api.members(coOwner, org.id)).map((m) => m.userId)).toEqual([coOwner.id]);
    });
  });
});
