import { createHash } from 'node:crypto';
import type { Response } from 'supertest';
import {
  expectData,
  expectError,
  expectItems,
  expectList,
  expectNoContent,
  expectValidationFailed,
  ISO_UTC,
  UUID,
} from './support/envelope';
import { INVITATION_TTL_SECONDS } from '../src/invitations/invitations.service';
import { MAIL_RETRY_DELAY_MAX_SECONDS } from '../src/mail/mailer';
import { CapturedMail, MailCapture } from './support/mail-capture';
import { auditRows } from './support/orgs-helpers';
import { client, createRoleOrg, RoleOrg } from './support/pt-helpers';
import { refuseAtCommit } from './support/commit-failure';
import { createTestApp, createTestDatabase, TestApp } from './support/test-app';
import { bearer, registerUser, SignedInUser, uniqueEmail } from './support/users';

const APP_URL = 'https://tasklane.example.test';
const INVITATION_KEYS = ['acceptedAt', 'createdAt', 'email', 'expiresAt', 'id', 'invitedBy', 'orgId', 'role', 'status'];

interface InvitationBody {
  id: string;
  orgId: string;
  email: string;
  role: string;
  status: string;
  invitedBy: string | null;
  expiresAt: string;
  createdAt: string;
  acceptedAt: string | null;
}

const invitationsUrl = (orgId: string): string => `/api/v1/orgs/${orgId}/invitations`;
const invitationUrl = (id: string): string => `/api/v1/invitations/${id}`;

/** The token of the accept link in a mail. */
function tokenOf(mail: CapturedMail): string {
  const link = mail.links.find((l) => l.startsWith(`${APP_URL}/invitations/accept?token=`));
  if (!link) throw new Error(`No accept link in: ${mail.text}`);
  return new URL(link).searchParams.get('token')!;
}

function mailEnv(mail: MailCapture): Record<string, string> {
  return {
    SMTP_URL: mail.url,
    MAIL_FROM: 'Tasklane Tests <no-reply@tasklane.example.test>',
    APP_URL,
    JOB_POLL_INTERVAL_MS: '500',
    MAIL_RETRY_DELAY_SECONDS: '1',
    INVITATIONS_PER_HOUR: '10000',
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('invitations (§16)', () => {
  let t: TestApp;
  let mail: MailCapture;
  let org: RoleOrg;

  beforeAll(async () => {
    mail = await new MailCapture().start();
    t = await createTestApp({ env: mailEnv(mail) });
    org = await createRoleOrg(t, 'Invite Org');
  });
  afterAll(async () => {
    await t?.close();
    await mail?.stop();
  });

  const invite = (by: SignedInUser, body: object, orgId = org.orgId): Promise<Response> =>
    client(t, by).post(invitationsUrl(orgId), body);

  /** Invites a fresh address as an admin; the invitation and the token from its mail. */
  async function invited(
    role = 'member',
    email = uniqueEmail('invitee'),
  ): Promise<{ invitation: InvitationBody; token: string }> {
    const invitation = expectData<InvitationBody>(await invite(org.users.admin, { email, role }), 201);
    return { invitation, token: tokenOf(await mail.waitFor(email)) };
  }

  describe('POST /orgs/{orgId}/invitations', () => {
    it('creates a pending invitation, audited, and mails the accept link', async () => {
      const email = uniqueEmail('Invitee').toUpperCase();
      const res = await invite(org.users.admin, { email, role: 'member' });
      const invitation = expectData<InvitationBody>(res, 201);
      expect(Object.keys(invitation).sort()).toEqual(INVITATION_KEYS);
      expect(invitation).toMatchObject({
        id: expect.stringMatching(UUID),
        orgId: org.orgId,
        email: email.toLowerCase(),
        role: 'member',
        status: 'pending',
        invitedBy: org.users.admin.id,
        acceptedAt: null,
      });
      expect(res.headers.location).toBe(invitationUrl(invitation.id));
      const days = (Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt)) / 86_400_000;
      expect(days).toBeCloseTo(7, 3);

      const message = await mail.waitFor(email);
      expect(message.from).toBe('no-reply@tasklane.example.test');
      expect(message.subject).toContain('Invite Org');
      expect(message.text).toContain('The admin invited you to join Invite Org on Tasklane as a member.');
      expect(message.html).toContain('Invite Org');
      const token = tokenOf(message);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(message.html).toContain(`${APP_URL}/invitations/accept?token=${token}`);

      const [event] = (await auditRows(t, org.orgId)).filter((e) => e.action === 'invitation.created');
      expect(event).toMatchObject({
        actorId: org.users.admin.id,
        entityType: 'invitation',
        entityId: invitation.id,
        changes: { email: [null, email.toLowerCase()], role: [null, 'member'] },
      });
    });

    it('stores the token only hashed, and the queued mail only encrypted', async () => {
      const email = uniqueEmail('hashed');
      const { invitation, token } = await invited('viewer', email);
      const [row] = await t.dataSource.query('SELECT token_hash FROM invitations WHERE id = $1', [invitation.id]);
      expect((row.token_hash as Buffer).equals(createHash('sha256').update(token).digest())).toBe(true);
      const everywhere = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE data::text LIKE $1 OR data::text LIKE $2`,
        [`%${token}%`, `%${email}%`],
      );
      expect(everywhere[0].n).toBe(0);
      const queued = await t.dataSource.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'mail.send'`);
      expect(queued[0].n).toBeGreaterThan(0);
    });

    it.each(['member', 'viewer'] as const)('is refused to a %s (403) and hidden from outsiders (404)', async (role) => {
      expectError(await invite(org.users[role], { email: uniqueEmail(), role: 'viewer' }), 403, 'FORBIDDEN');
      expectError(await invite(org.users.outsider, { email: uniqueEmail(), role: 'viewer' }), 404, 'NOT_FOUND');
    });

    it('lets only an owner invite an owner', async () => {
      expectError(await invite(org.users.admin, { email: uniqueEmail(), role: 'owner' }), 403, 'FORBIDDEN');
      const owner = expectData<InvitationBody>(
        await invite(org.users.owner, { email: uniqueEmail(), role: 'owner' }),
        201,
      );
      expect(owner.role).toBe('owner');
    });

    it('answers 409 for a member’s email and for an email with a pending invitation', async () => {
      const memberRes = await invite(org.users.admin, { email: org.users.member.email, role: 'viewer' });
      expect(expectError(memberRes, 409, 'CONFLICT').message).toContain('member');
      const { invitation } = await invited('viewer');
      const again = await invite(org.users.owner, { email: invitation.email, role: 'admin' });
      expect(expectError(again, 409, 'CONFLICT').message).toContain('pending');
      // once revoked, the person can be invited again
      expectNoContent(await client(t, org.users.admin).delete(invitationUrl(invitation.id)));
      expectData(await invite(org.users.admin, { email: invitation.email, role: 'admin' }), 201);
    });

    it('gives one invitation and one 409 to two admins inviting the same email at once', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all([
        invite(org.users.admin, { email, role: 'member' }),
        invite(org.users.owner, { email, role: 'member' }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const rows = await t.dataSource.query('SELECT count(*)::int AS n FROM invitations WHERE email = $1', [email]);
      expect(rows[0].n).toBe(1);
    });

    it('validates the body', async () => {
      expectValidationFailed(await invite(org.users.admin, { email: 'not-an-email', role: 'member' }), ['email']);
      expectValidationFailed(await invite(org.users.admin, { email: uniqueEmail(), role: 'king' }), ['role']);
      expectValidationFailed(await invite(org.users.admin, { email: uniqueEmail(), role: 'member', extra: 1 }), [
        'extra',
      ]);
      expectValidationFailed(await client(t, org.users.admin).post(invitationsUrl('nope'), {}), ['orgId']);
      expectError(
        await t.http().post(invitationsUrl(org.orgId)).send({ email: uniqueEmail(), role: 'member' }),
        401,
        'UNAUTHENTICATED',
      );
    });
  });

  describe('GET /orgs/{orgId}/invitations and GET /invitations/{id}', () => {
    it('lists newest first for admins, filters by status, pages with cursors', async () => {
      const other = await createRoleOrg(t, 'List Org');
      const made: InvitationBody[] = [];
      for (let i = 0; i < 3; i++) {
        made.push(
          expectData<InvitationBody>(
            await client(t, other.users.admin).post(invitationsUrl(other.orgId), {
              email: uniqueEmail(),
              role: 'viewer',
            }),
            201,
          ),
        );
      }
      expectNoContent(await client(t, other.users.admin).delete(invitationUrl(made[0].id)));

      const all = expectItems<InvitationBody>(await client(t, other.users.owner).get(invitationsUrl(other.orgId)));
      expect(all.map((i) => i.id)).toEqual([made[2].id, made[1].id, made[0].id]);
      const pending = expectItems<InvitationBody>(
        await client(t, other.users.admin).get(`${invitationsUrl(other.orgId)}?status=pending`),
      );
      expect(pending.map((i) => i.id)).toEqual([made[2].id, made[1].id]);
      const revoked = expectItems<InvitationBody>(
        await client(t, other.users.admin).get(`${invitationsUrl(other.orgId)}?status=revoked`),
      );
      expect(revoked.map((i) => [i.id, i.status])).toEqual([[made[0].id, 'revoked']]);
      const oldest = expectItems<InvitationBody>(
        await client(t, other.users.admin).get(`${invitationsUrl(other.orgId)}?sort=createdAt`),
      );
      expect(oldest[0].id).toBe(made[0].id);

      const first = expectList<InvitationBody>(
        await client(t, other.users.admin).get(`${invitationsUrl(other.orgId)}?limit=2`),
      );
      expect(first.data).toHaveLength(2);
      const second = expectList<InvitationBody>(
        await client(t, other.users.admin).get(
          `${invitationsUrl(other.orgId)}?limit=2&cursor=${first.page.nextCursor}`,
        ),
      );
      expect(second.data.map((i) => i.id)).toEqual([made[0].id]);
      expect(second.page.nextCursor).toBeNull();
      // a cursor of another filter set
      const foreign = await client(t, other.users.admin).get(
        `${invitationsUrl(other.orgId)}?status=pending&cursor=${first.page.nextCursor}`,
      );
      expectError(foreign, 400, 'INVALID_CURSOR');

      expectValidationFailed(await client(t, other.users.admin).get(`${invitationsUrl(other.orgId)}?status=lost`), [
        'status',
      ]);
      expectError(await client(t, other.users.member).get(invitationsUrl(other.orgId)), 403, 'FORBIDDEN');
      expectError(await client(t, org.users.admin).get(invitationsUrl(other.orgId)), 404, 'NOT_FOUND');

      const one = expectData<InvitationBody>(await client(t, other.users.admin).get(invitationUrl(made[1].id)));
      expect(one).toEqual(made[1]);
      expectError(await client(t, other.users.viewer).get(invitationUrl(made[1].id)), 403, 'FORBIDDEN');
      expectError(await client(t, org.users.owner).get(invitationUrl(made[1].id)), 404, 'NOT_FOUND');
      expectValidationFailed(await client(t, other.users.admin).get(invitationUrl('x')), ['invitationId']);
    });
  });

  describe('GET /invitations/preview (public)', () => {
    it('shows what the link offers, without signing in', async () => {
      const { invitation, token } = await invited('admin');
      const preview = expectData(await t.http().get('/api/v1/invitations/preview').query({ token }));
      expect(preview).toEqual({
        orgName: 'Invite Org',
        invitedByName: 'The admin',
        role: 'admin',
        email: invitation.email,
        expiresAt: invitation.expiresAt,
      });
    });

    it('no longer names an inviter whose account was deleted', async () => {
      const inviter = await registerUser(t, { name: 'Leaving Admin' });
      expectData(
        await client(t, org.users.owner).post(`/api/v1/orgs/${org.orgId}/members`, {
          email: inviter.email,
          role: 'admin',
        }),
        201,
      );
      const email = uniqueEmail('orphan');
      expectData(await client(t, inviter).post(invitationsUrl(org.orgId), { email, role: 'viewer' }), 201);
      const token = tokenOf(await mail.waitFor(email));
      expect(expectData(await t.http().get('/api/v1/invitations/preview').query({ token })).invitedByName).toBe(
        'Leaving Admin',
      );
      await t.http().delete(`/api/v1/users/${inviter.id}`).set(bearer(inviter.accessToken)).expect(204);
      expect(expectData(await t.http().get('/api/v1/invitations/preview').query({ token })).invitedByName).toBeNull();
    });

    it('is a 404 for an unknown token, of any shape, and a 400 for what cannot be a token', async () => {
      const preview = (query: Record<string, string>) => t.http().get('/api/v1/invitations/preview').query(query);
      for (const unknown of ['A'.repeat(43), 'short', 'not-a-token', 'x'.repeat(256)]) {
        expectError(await preview({ token: unknown }), 404, 'NOT_FOUND');
      }
      for (const impossible of ['', 'with space', 'x'.repeat(257)]) {
        expectValidationFailed(await preview({ token: impossible }), ['token']);
      }
      expectValidationFailed(await t.http().get('/api/v1/invitations/preview'), ['token']);
    });

    it('never writes the token into the request log', async () => {
      const logged = await createTestApp({ databaseUrl: t.databaseUrl, captureLogs: true, env: mailEnv(mail) });
      try {
        const { token } = await invited('viewer');
        await logged.http().get('/api/v1/invitations/preview').query({ token }).expect(200);
        const lines = JSON.stringify(logged.logs);
        expect(lines).toContain('/api/v1/invitations/preview');
        expect(lines).not.toContain(token);
      } finally {
        await logged.close();
      }
    });
  });

  describe('POST /invitations/accept', () => {
    const accept = (user: SignedInUser, token: string): Promise<Response> =>
      client(t, user).post('/api/v1/invitations/accept', { token });

    it('lets someone without an account register with the invited email, then join with the role', async () => {
      const { invitation, token } = await invited('member');
      const newcomer = await registerUser(t, { email: invitation.email, name: 'Newcomer' });
      const member = expectData<{ userId: string; orgId: string; role: string }>(await accept(newcomer, token));
      expect(member).toMatchObject({
        userId: newcomer.id,
        orgId: org.orgId,
        role: 'member',
        user: { email: invitation.email },
      });
      // the newcomer is a member now: the org and its projects are visible
      expectData(await client(t, newcomer).get(`/api/v1/orgs/${org.orgId}`));

      const after = expectData<InvitationBody>(await client(t, org.users.admin).get(invitationUrl(invitation.id)));
      expect(after).toMatchObject({ status: 'accepted', acceptedAt: expect.stringMatching(ISO_UTC) });
      const events = (await auditRows(t, org.orgId)).filter(
        (e) => e.entityId === invitation.id || e.entityId === newcomer.id,
      );
      // the two of the acceptance share a transaction (and often a millisecond): compared as a set
      expect(
        events
          .map((e) => e.action)
          .slice(0, 2)
          .sort(),
      ).toEqual(['invitation.accepted', 'membership.created']);
      expect(events[2].action).toBe('invitation.created');
      const accepted = events.find((e) => e.action === 'invitation.accepted')!;
      expect(accepted).toMatchObject({
        actorId: newcomer.id,
        changes: { status: ['pending', 'accepted'], userId: [null, newcomer.id] },
      });

      // single use
      expectError(await accept(newcomer, token), 404, 'NOT_FOUND');
      expectError(await t.http().get('/api/v1/invitations/preview').query({ token }), 404, 'NOT_FOUND');
    });

    it('is a 403 for a signed-in user with another email, and the invitation stays usable', async () => {
      const { invitation, token } = await invited('viewer');
      const stranger = await registerUser(t);
      expect(expectError(await accept(stranger, token), 403, 'FORBIDDEN').message).toContain('another email');
      const invitee = await registerUser(t, { email: invitation.email });
      expectData(await accept(invitee, token));
    });

    it('is a 409 for someone who became a member meanwhile', async () => {
      const { invitation, token } = await invited('viewer');
      const invitee = await registerUser(t, { email: invitation.email });
      expectData(
        await client(t, org.users.admin).post(`/api/v1/orgs/${org.orgId}/members`, {
          email: invitee.email,
          role: 'member',
        }),
        201,
      );
      expectError(await accept(invitee, token), 409, 'CONFLICT');
    });

    it('is a 404 for unknown, revoked and expired tokens; 401 without signing in; 400 for what cannot be a token', async () => {
      const someone = await registerUser(t);
      expectError(await accept(someone, 'B'.repeat(43)), 404, 'NOT_FOUND');
      expectError(await accept(someone, 'unknown-token'), 404, 'NOT_FOUND');
      expectValidationFailed(await accept(someone, 'not a token'), ['token']);
      expectError(
        await t
          .http()
          .post('/api/v1/invitations/accept')
          .send({ token: 'B'.repeat(43) }),
        401,
        'UNAUTHENTICATED',
      );

      const revoked = await invited('viewer');
      expectNoContent(await client(t, org.users.admin).delete(invitationUrl(revoked.invitation.id)));
      const revokedUser = await registerUser(t, { email: revoked.invitation.email });
      expectError(await accept(revokedUser, revoked.token), 404, 'NOT_FOUND');

      const expired = await invited('viewer');
      await t.dataSource.query(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        expired.invitation.id,
      ]);
      const expiredUser = await registerUser(t, { email: expired.invitation.email });
      expectError(await accept(expiredUser, expired.token), 404, 'NOT_FOUND');
      expectError(await t.http().get('/api/v1/invitations/preview').query({ token: expired.token }), 404, 'NOT_FOUND');
      const listed = expectItems<InvitationBody>(
        await client(t, org.users.admin).get(`${invitationsUrl(org.orgId)}?status=expired&limit=100`),
      );
      expect(listed.map((i) => i.id)).toContain(expired.invitation.id);
      // an expired invitation does not block a new one
      expectData(await invite(org.users.admin, { email: expired.invitation.email, role: 'viewer' }), 201);
    });
  });

  describe('races', () => {
    it('two accepts of one invitation at once: one membership, one 404', async () => {
      const { invitation, token } = await invited('viewer');
      const invitee = await registerUser(t, { email: invitation.email });
      const accept = () => client(t, invitee).post('/api/v1/invitations/accept', { token });
      const results = await Promise.all([accept(), accept()]);
      expect(results.map((res) => res.status).sort()).toEqual([200, 404]);
      const [row] = await t.dataSource.query(
        'SELECT count(*)::int AS n FROM memberships WHERE org_id = $1 AND user_id = $2',
        [org.orgId, invitee.id],
      );
      expect(row.n).toBe(1);
    });

    it('accept against revoke at once: either the member joined and the revoke is a 409, or neither', async () => {
      const { invitation, token } = await invited('viewer');
      const invitee = await registerUser(t, { email: invitation.email });
      const [accepted, revoked] = await Promise.all([
        client(t, invitee).post('/api/v1/invitations/accept', { token }),
        client(t, org.users.admin).delete(invitationUrl(invitation.id)),
      ]);
      const [row] = await t.dataSource.query(
        'SELECT count(*)::int AS n FROM memberships WHERE org_id = $1 AND user_id = $2',
        [org.orgId, invitee.id],
      );
      const status = expectData<InvitationBody>(
        await client(t, org.users.admin).get(invitationUrl(invitation.id)),
      ).status;
      if (accepted.status === 200) {
        expect({ revoke: revoked.status, members: row.n, status }).toEqual({
          revoke: 409,
          members: 1,
          status: 'accepted',
        });
      } else {
        expect({ accept: accepted.status, revoke: revoked.status, members: row.n, status }).toEqual({
          accept: 404,
          revoke: 204,
          members: 0,
          status: 'revoked',
        });
      }
    });
  });

  it('an admin of another org can neither see nor revoke an invitation (404)', async () => {
    const other = await createRoleOrg(t, 'Other Org');
    const { invitation } = await invited('viewer');
    expectError(await client(t, other.users.admin).get(invitationUrl(invitation.id)), 404, 'NOT_FOUND');
    expectError(await client(t, other.users.owner).delete(invitationUrl(invitation.id)), 404, 'NOT_FOUND');
    expectError(await client(t, other.users.admin).get(invitationsUrl(org.orgId)), 404, 'NOT_FOUND');
    expectError(
      await client(t, other.users.admin).post(invitationsUrl(org.orgId), { email: uniqueEmail(), role: 'viewer' }),
      404,
      'NOT_FOUND',
    );
    expect(expectData<InvitationBody>(await client(t, org.users.admin).get(invitationUrl(invitation.id))).status).toBe(
      'pending',
    );
  });

  describe('DELETE /invitations/{id}', () => {
    it('revokes a pending invitation (admin+ of its org), audited; then 409', async () => {
      const { invitation } = await invited('viewer');
      expectError(await client(t, org.users.member).delete(invitationUrl(invitation.id)), 403, 'FORBIDDEN');
      expectError(await client(t, org.users.outsider).delete(invitationUrl(invitation.id)), 404, 'NOT_FOUND');
      expectError(await t.http().delete(invitationUrl(invitation.id)), 401, 'UNAUTHENTICATED');
      expectNoContent(await client(t, org.users.admin).delete(invitationUrl(invitation.id)));
      const [event] = (await auditRows(t, org.orgId)).filter(
        (e) => e.entityId === invitation.id && e.action === 'invitation.revoked',
      );
      expect(event).toMatchObject({ actorId: org.users.admin.id, changes: { status: ['pending', 'revoked'] } });
      expectError(await client(t, org.users.admin).delete(invitationUrl(invitation.id)), 409, 'CONFLICT');
      expectError(
        await client(t, org.users.admin).delete(invitationUrl('00000000-0000-4000-8000-000000000000')),
        404,
        'NOT_FOUND',
      );
    });

    it('refuses to revoke an accepted invitation (409)', async () => {
      const { invitation, token } = await invited('viewer');
      const invitee = await registerUser(t, { email: invitation.email });
      expectData(await client(t, invitee).post('/api/v1/invitations/accept', { token }));
      expect(
        expectError(await client(t, org.users.owner).delete(invitationUrl(invitation.id)), 409, 'CONFLICT').message,
      ).toContain('accepted');
    });
  });

  describe('who may do what (contract §16; a non-member gets 404 for everything of the org)', () => {
    const ROLE_TABLE: [string, Record<'owner' | 'admin' | 'member' | 'viewer' | 'outsider', number>][] = [
      ['create', { owner: 201, admin: 201, member: 403, viewer: 403, outsider: 404 }],
      ['list', { owner: 200, admin: 200, member: 403, viewer: 403, outsider: 404 }],
      ['get', { owner: 200, admin: 200, member: 403, viewer: 403, outsider: 404 }],
      ['revoke', { owner: 204, admin: 204, member: 403, viewer: 403, outsider: 404 }],
    ];

    it.each(ROLE_TABLE)('%s', async (action, expected) => {
      const actual: Record<string, number> = {};
      for (const role of Object.keys(expected) as (keyof typeof expected)[]) {
        const as = client(t, org.users[role]);
        // a fresh pending invitation for each caller, made by the owner
        const target = expectData<InvitationBody>(
          await invite(org.users.owner, { email: uniqueEmail('table'), role: 'viewer' }),
          201,
        );
        const res =
          action === 'create'
            ? await as.post(invitationsUrl(org.orgId), { email: uniqueEmail('table'), role: 'viewer' })
            : action === 'list'
              ? await as.get(invitationsUrl(org.orgId))
              : action === 'get'
                ? await as.get(invitationUrl(target.id))
                : await as.delete(invitationUrl(target.id));
        actual[role] = res.status;
        if (res.status >= 400) expectError(res, res.status, res.status === 403 ? 'FORBIDDEN' : 'NOT_FOUND');
      }
      expect(actual).toEqual(expected);
    });
  });

  describe('mail delivery', () => {
    it('sends nothing for a refused change', async () => {
      const refused = [uniqueEmail('refused'), uniqueEmail('refused'), uniqueEmail('refused')];
      expectError(await invite(org.users.admin, { email: refused[0], role: 'owner' }), 403, 'FORBIDDEN');
      expectError(await invite(org.users.member, { email: refused[1], role: 'viewer' }), 403, 'FORBIDDEN');
      expectError(await invite(org.users.outsider, { email: refused[2], role: 'viewer' }), 404, 'NOT_FOUND');
      const control = uniqueEmail('control');
      expectData(await invite(org.users.admin, { email: control, role: 'viewer' }), 201);
      await mail.waitFor(control);
      await sleep(500);
      expect(refused.map((email) => mail.to(email).length)).toEqual([0, 0, 0]);
    });

    it('sends nothing for a change that rolled back', async () => {
      // A deferred check fails the invitation's transaction at COMMIT, after its mail was queued.
      const allowCommits = await refuseAtCommit(t.dataSource, 'invitations', 'email');
      try {
        const email = uniqueEmail('rollback');
        expectError(await invite(org.users.admin, { email, role: 'viewer' }), 500, 'INTERNAL');
        const control = uniqueEmail('control');
        expectData(await invite(org.users.admin, { email: control, role: 'viewer' }), 201);
        await mail.waitFor(control);
        await sleep(1000);
        expect(mail.to(email)).toEqual([]);
        const rows = await t.dataSource.query('SELECT count(*)::int AS n FROM invitations WHERE email = $1', [email]);
        expect(rows[0].n).toBe(0);
      } finally {
        await allowCommits();
      }
    });

    it('retries mail for as long as an invitation link lives, backing off to hourly (the policy pgboss.queue holds)', async () => {
      const [queue] = await t.dataSource.query(
        `SELECT retry_limit, retry_delay, retry_backoff, expire_seconds, retention_minutes
           FROM pgboss.queue WHERE name = 'mail.send'`,
      );
      // MAIL_RETRY_DELAY_SECONDS=1 here (10 by default: src/mail/mailer.spec.ts)
      expect(queue).toMatchObject({ retry_delay: 1, retry_backoff: true, expire_seconds: 120 });
      // pg-boss 10 (plans.js, failJobs): wait n is retry_delay × 2^min(16, n + 1) / 2 × (1 + random());
      // the job queue waits MAIL_RETRY_DELAY_MAX_SECONDS instead once that could be exceeded.
      let shortest = 0;
      let longest = 0;
      for (let n = 0; n < queue.retry_limit; n++) {
        const backoff = queue.retry_delay * 2 ** Math.min(16, n + 1);
        shortest += backoff > MAIL_RETRY_DELAY_MAX_SECONDS ? MAIL_RETRY_DELAY_MAX_SECONDS : backoff / 2;
        longest += Math.min(backoff, MAIL_RETRY_DELAY_MAX_SECONDS);
      }
      expect(MAIL_RETRY_DELAY_MAX_SECONDS).toBe(3600);
      expect(shortest).toBeGreaterThanOrEqual(INVITATION_TTL_SECONDS);
      expect(longest).toBeLessThan(INVITATION_TTL_SECONDS + 2 * 3600);
      // a job still waiting for a retry is kept (not archived) until well past its last one
      expect(queue.retention_minutes * 60).toBeGreaterThan(longest + (queue.retry_limit + 1) * queue.expire_seconds);
    });

    it('delays mail through an SMTP outage and loses none', async () => {
      await mail.stop();
      const emails = [uniqueEmail('outage'), uniqueEmail('outage'), uniqueEmail('outage')];
      const [{ since }] = await t.dataSource.query('SELECT now() AS since');
      /** This test's mail jobs waiting for a retry: the wait each was given after its last failure. */
      const retrying = async (): Promise<
        { id: string; retryCount: number; wait: number; backoff: boolean; delay: number }[]
      > =>
        t.dataSource.query(
          `SELECT id, retry_count AS "retryCount", EXTRACT(epoch FROM start_after - started_on)::float8 AS wait,
                  retry_backoff AS backoff, retry_delay AS delay
             FROM pgboss.job WHERE name = 'mail.send' AND state = 'retry' AND created_on >= $1`,
          [since],
        );
      /** Each job → the wait it was given after each failure; `jumped`: the one moved to its 13th attempt. */
      const waits = new Map<string, number[]>();
      let jumped: string | undefined;
      let capped: Awaited<ReturnType<typeof retrying>>[number] | undefined;
      const watchUntil = async (done: () => boolean): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && !done()) {
          await sleep(100);
          for (const job of await retrying()) {
            if (job.id === jumped) {
              if (job.retryCount === 12) capped = job;
              continue;
            }
            const seen = waits.get(job.id) ?? [];
            if (job.retryCount === seen.length) waits.set(job.id, [...seen, job.wait]);
          }
        }
      };
      try {
        for (const email of emails) expectData(await invite(org.users.admin, { email, role: 'viewer' }), 201);
        // the first attempts fail (connection refused) and are put back for a retry
        await watchUntil(() => waits.size === emails.length);
        expect(waits.size).toBe(emails.length);
        // One job jumps to its 13th attempt: after it pg-boss alone would wait 2^13 / 2 to 2^13 s,
        // the job queue waits the hour it bounds mail retries to.
        // (TypeORM answers an UPDATE with [rows, count])
        const [moved] = await t.dataSource.query(
          `UPDATE pgboss.job SET retry_count = 11, start_after = now()
            WHERE id = (SELECT id FROM pgboss.job WHERE id = ANY($1) AND state = 'retry' AND retry_count = 0 LIMIT 1)
            RETURNING id`,
          [[...waits.keys()]],
        );
        expect(moved).toHaveLength(1);
        jumped = moved[0].id as string;
        waits.delete(jumped);
        // the others fail again 1 to 2 s later, and are given 2 to 4 s: the waits double
        await watchUntil(() => capped !== undefined && [...waits.values()].every((w) => w.length === 2));
        expect([...waits.values()].map((w) => w.length)).toEqual([2, 2]);
        for (const [first, second] of waits.values()) {
          expect(first).toBeGreaterThanOrEqual(1);
          expect(first).toBeLessThan(2.5);
          expect(second).toBeGreaterThanOrEqual(2);
          expect(second).toBeLessThan(4.5);
        }
        expect(capped).toMatchObject({ backoff: false, delay: 3600 });
        expect(capped!.wait).toBeGreaterThanOrEqual(3600);
        expect(capped!.wait).toBeLessThan(3600.5);
        // the failures are recorded without the address (the payload is sealed, and so is the error)
        const [outputs] = await t.dataSource.query(
          `SELECT count(*) FILTER (WHERE output::text LIKE ANY($1))::int AS addressed,
                  count(*) FILTER (WHERE output->>'message' ~ '^(ESOCKET|ECONNREFUSED)')::int AS refused
             FROM pgboss.job WHERE name = 'mail.send' AND state = 'retry'`,
          [emails.map((email) => `%${email}%`)],
        );
        expect(outputs).toEqual({ addressed: 0, refused: expect.any(Number) });
        expect(outputs.refused).toBeGreaterThanOrEqual(emails.length);
        const during = (await t.http().get('/metrics').expect(200)).text;
        expect(Number(/^jobs_waiting\{queue="mail.send"\} (\d+)$/m.exec(during)?.[1])).toBeGreaterThanOrEqual(
          emails.length,
        );
      } finally {
        await mail.start();
      }
      // the job given an hour's wait is due again now, so that its mail goes out with the others'
      if (jumped) await t.dataSource.query('UPDATE pgboss.job SET start_after = now() WHERE id = $1', [jumped]);
      for (const email of emails)
        expect((await mail.waitFor(email, { timeoutMs: 20_000 })).subject).toContain('Invite Org');
      // /metrics saw the failed attempts and the successes
      const metrics = (await t.http().get('/metrics').expect(200)).text;
      const value = (name: string): number =>
        Number(new RegExp(`^${name}\\{queue="mail.send"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
      expect(value('jobs_failed_total')).toBeGreaterThanOrEqual(emails.length);
      expect(value('jobs_completed_total')).toBeGreaterThanOrEqual(emails.length);
      expect(value('jobs_abandoned_total')).toBe(0);
    });

    it('keeps jobs across restarts: queued by an instance without workers, sent by the next one', async () => {
      const database = await createTestDatabase();
      try {
        const serving = await createTestApp({
          databaseUrl: database.url,
          env: { ...mailEnv(mail), JOB_WORKERS: 'false' },
        });
        const email = uniqueEmail('restart');
        try {
          const owner = await registerUser(serving);
          const orgId = expectData<{ id: string }>(
            await client(serving, owner).post('/api/v1/orgs', { name: 'Restart Org' }),
            201,
          ).id;
          expectData(await client(serving, owner).post(invitationsUrl(orgId), { email, role: 'viewer' }), 201);
          await sleep(1500);
          expect(mail.to(email)).toEqual([]);
        } finally {
          await serving.close();
        }
        const working = await createTestApp({ databaseUrl: database.url, env: mailEnv(mail) });
        try {
          expect((await mail.waitFor(email, { timeoutMs: 10_000 })).subject).toContain('Restart Org');
        } finally {
          await working.close();
        }
      } finally {
        await database.drop();
      }
    });

    it('sends each mail once with two instances working the same queue', async () => {
      // Queued by an instance that works no jobs, so that both working instances compete for all.
      const producer = await createTestApp({
        databaseUrl: t.databaseUrl,
        env: { ...mailEnv(mail), JOB_WORKERS: 'false' },
      });
      const second = await createTestApp({ databaseUrl: t.databaseUrl, env: mailEnv(mail) });
      try {
        const emails = Array.from({ length: 12 }, () => uniqueEmail('shared'));
        await Promise.all(
          emails.map((email) =>
            producer
              .http()
              .post(invitationsUrl(org.orgId))
              .set(bearer(org.users.admin.accessToken))
              .send({ email, role: 'viewer' })
              .expect(201),
          ),
        );
        for (const email of emails) await mail.waitFor(email, { timeoutMs: 15_000 });
        await sleep(1500);
        expect(emails.map((email) => mail.to(email).length)).toEqual(emails.map(() => 1));
      } finally {
        await second.close();
        await producer.close();
      }
    });
  });
});

describe('invitations: at most INVITATIONS_PER_HOUR an org', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { INVITATIONS_PER_HOUR: '3' } });
  });
  afterAll(() => t?.close());

  it('answers 429 with Retry-After beyond the hourly number, per org', async () => {
    const owner = await registerUser(t);
    const [first, second] = [
      expectData<{ id: string }>(await client(t, owner).post('/api/v1/orgs', { name: 'Busy Org' }), 201).id,
      expectData<{ id: string }>(await client(t, owner).post('/api/v1/orgs', { name: 'Quiet Org' }), 201).id,
    ];
    for (let i = 0; i < 3; i++) {
      expectData(await client(t, owner).post(invitationsUrl(first), { email: uniqueEmail(), role: 'viewer' }), 201);
    }
    const limited = await client(t, owner).post(invitationsUrl(first), { email: uniqueEmail(), role: 'viewer' });
    expectError(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expectData(await client(t, owner).post(invitationsUrl(second), { email: uniqueEmail(), role: 'viewer' }), 201);
  });
});
