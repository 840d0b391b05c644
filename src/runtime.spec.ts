import { inspect } from 'node:util';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { EnvError } from './config/env.schema';
import { EmbeddedPostgresMissingError } from './database/embedded-postgres';
import { startupFailure } from './runtime';

/** A QueryFailedError as TypeORM throws it for a users insert refused with a unique violation. */
function refusedInsert(): QueryFailedError {
  const driverError = new DatabaseError(
    'duplicate key value violates unique constraint "users_email_key"',
    120,
    'error',
  );
  Object.assign(driverError, {
    severity: 'ERROR',
    code: '23505',
    detail: 'Key (email)=(ops@example.com) already exists.',
    table: 'users',
    constraint: 'users_email_key',
  });
  return new QueryFailedError(
    'INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4)',
    ['ops@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'Ops', 'admin'],
    driverError,
  );
}

describe('startupFailure: what main.ts and cli.ts print for an error that stopped them', () => {
  it('a database error: its class, SQLSTATE and message, then its frames; never the SQL, values or detail', () => {
    const error = refusedInsert();
    // what console.error(error) printed before
    expect(inspect(error)).toContain('$argon2id$');
    const printed = startupFailure(error);
    const [reason, ...frames] = printed.split('\n');
    expect(reason).toBe('QueryFailedError [23505]: duplicate key value violates unique constraint "users_email_key"');
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expect(frame).toMatch(/^\s+at /);
    for (const secret of ['INSERT INTO', '$argon2', 'ops@example.com', 'Key (email)', 'password_hash']) {
      expect(printed).not.toContain(secret);
    }
  });

  it('the same inside a cause, and the errors of an AggregateError one line each', () => {
    const wrapped = new Error('Could not create the admin', { cause: refusedInsert() });
    const printed = startupFailure(wrapped);
    expect(printed.split('\n')[0]).toBe('Error: Could not create the admin');
    expect(printed).toContain(
      '\nCaused by: QueryFailedError [23505]: duplicate key value violates unique constraint "users_email_key"\n',
    );
    expect(printed).not.toContain('$argon2');
    expect(printed).not.toContain('ops@example.com');

    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const unreachable = Object.assign(new AggregateError([refused('::1:5432'), refused('127.0.0.1:5432')], ''), {
      code: 'ECONNREFUSED',
    });
    const lines = startupFailure(unreachable).split('\n');
    expect(lines[0]).toBe('AggregateError [ECONNREFUSED]');
    expect(lines).toContain('  - Error [ECONNREFUSED]: connect ECONNREFUSED ::1:5432');
    expect(lines).toContain('  - Error [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('a problem of the operator’s (a bad variable, no embedded PostgreSQL): the message alone, naming it', () => {
    expect(startupFailure(new EnvError('JWT_SECRET', 'must be at least 32 characters'))).toBe(
      'Invalid environment variable JWT_SECRET: must be at least 32 characters',
    );
    const missing = new EmbeddedPostgresMissingError(new Error('Cannot find module'));
    expect(startupFailure(missing)).toBe(missing.message);
  });

  it('something thrown that is not an Error: as text', () => {
    expect(startupFailure('stopped')).toBe('string: stopped');
    expect(startupFailure(undefined)).toBe('undefined: undefined');
  });
});
