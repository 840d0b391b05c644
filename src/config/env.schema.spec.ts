import { EnvError, parseEnvironment } from './env.schema';

/** The EnvError that parsing this environment throws (fails the test if it does not throw one). */
function envErrorOf(raw: Record<string, string>): EnvError {
  try {
    parseEnvironment(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return error as EnvError;
  }
  throw new Error(`parseEnvironment accepted ${JSON.stringify(raw)}`);
}

const STRONG_SECRET = 'q7Vd2mKx9LpR4tWz8NcY1bHf6GjS3uEa0iOv'; // 36 chars, no pattern
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app:pw@db.internal:5432/tasklane',
  SMTP_URL: 'smtp://mailer:pw@smtp.internal:587',
  APP_URL: 'https://tasklane.example.com',
};

describe('parseEnvironment', () => {
  it('has defaults for everything optional', () => {
    expect(parseEnvironment({})).toEqual({
      NODE_ENV: 'development',
      PORT: 3000,
      HOST: '0.0.0.0',
      DATABASE_URL: undefined,
      DATABASE_DIRECT_URL: undefined,
      DATABASE_POOLER: 'none',
      DATABASE_REPLICA_URLS: [],
      DB_POOL_MAX: 10,
      DB_CONNECTION_TIMEOUT_MS: 5000,
      DB_STATEMENT_TIMEOUT_MS: 10_000,
      JWT_SECRET: undefined,
      JWT_ACCESS_TTL: 15 * 60,
      JWT_REFRESH_TTL: 30 * 86400,
      CORS_ORIGINS: undefined,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'auto',
      ADMIN_EMAIL: undefined,
      ADMIN_PASSWORD: undefined,
      METRICS_TOKEN: undefined,
      REDIS_URL: undefined,
      UPLOAD_DIR: '.data/uploads',
      STORAGE_DRIVER: 'local',
      S3_ENDPOINT: undefined,
      S3_REGION: 'us-east-1',
      S3_BUCKET: undefined,
      S3_ACCESS_KEY_ID: undefined,
      S3_SECRET_ACCESS_KEY: undefined,
      S3_FORCE_PATH_STYLE: false,
      UPLOAD_MAX_BYTES: 10 * 1024 * 1024,
      RATE_LIMIT_PER_MINUTE: 600,
      LOGIN_RATE_LIMIT_PER_IP: 30,
      LOGIN_RATE_LIMIT_PER_ACCOUNT: 10,
      MIGRATIONS_RUN: true,
      SEED_DEMO: false,
      PASSWORD_HASH_CONCURRENCY: expect.any(Number),
      TRUST_PROXY: 0,
      SHUTDOWN_TIMEOUT_MS: 8000,
      SMTP_URL: undefined,
      MAIL_FROM: undefined,
      APP_URL: undefined,
      MAIL_RETRY_DELAY_SECONDS: 10,
      INVITATIONS_PER_HOUR: 100,
      JOB_WORKERS: true,
      JOB_POLL_INTERVAL_MS: 2000,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
      WEBHOOK_RETRY_DELAY_SECONDS: 30,
    });
  });

  it('allows private webhook targets by default outside production only, and either way when told', () => {
    expect(parseEnvironment({ NODE_ENV: 'test' }).WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(true);
    expect(parseEnvironment({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' }).WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(false);
    const production = { ...PRODUCTION, JWT_SECRET: STRONG_SECRET };
    expect(parseEnvironment(production).WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(false);
    expect(
      parseEnvironment({ ...production, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).WEBHOOK_ALLOW_PRIVATE_TARGETS,
    ).toBe(true);
    expect(envErrorOf({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'maybe' }).variable).toBe('WEBHOOK_ALLOW_PRIVATE_TARGETS');
  });

  it('keeps webhook retries going for 24 hours: WEBHOOK_RETRY_DELAY_SECONDS of 23 or more, but under test', () => {
    expect(envErrorOf({ WEBHOOK_RETRY_DELAY_SECONDS: '22' }).variable).toBe('WEBHOOK_RETRY_DELAY_SECONDS');
    expect(parseEnvironment({ WEBHOOK_RETRY_DELAY_SECONDS: '23' }).WEBHOOK_RETRY_DELAY_SECONDS).toBe(23);
    expect(parseEnvironment({ NODE_ENV: 'test', WEBHOOK_RETRY_DELAY_SECONDS: '1' }).WEBHOOK_RETRY_DELAY_SECONDS).toBe(
      1,
    );
    expect(envErrorOf({ WEBHOOK_RETRY_DELAY_SECONDS: '301' }).variable).toBe('WEBHOOK_RETRY_DELAY_SECONDS');
  });

  it('checks the mail settings', () => {
    expect(envErrorOf({ SMTP_URL: 'http://mail.example.com' }).variable).toBe('SMTP_URL');
    expect(envErrorOf({ APP_URL: 'ftp://app.example.com' }).variable).toBe('APP_URL');
    expect(envErrorOf({ MAIL_FROM: 'not an address' }).variable).toBe('MAIL_FROM');
    expect(envErrorOf({ APP_URL: 'https://app.example.com/?x=1' }).variable).toBe('APP_URL');
    expect(envErrorOf({ APP_URL: 'https://app.example.com/#/' }).variable).toBe('APP_URL');
    expect(parseEnvironment({ APP_URL: 'https://example.com/tasklane/' }).APP_URL).toBe('https://example.com/tasklane');
    const env = parseEnvironment({ APP_URL: 'https://app.example.com/', MAIL_FROM: 'Tasklane <no-reply@example.com>' });
    expect(env.APP_URL).toBe('https://app.example.com');
    expect(env.MAIL_FROM).toBe('Tasklane <no-reply@example.com>');
  });

  it('treats empty and blank values as unset', () => {
    const env = parseEnvironment({ PORT: '', LOG_LEVEL: '  ', DATABASE_URL: '' });
    expect(env.PORT).toBe(3000);
    expect(env.LOG_LEVEL).toBe('info');
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('parses the values it is given', () => {
    const env = parseEnvironment({
      NODE_ENV: 'test',
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://u:p@localhost:5432/db',
      DB_POOL_MAX: '25',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      LOG_LEVEL: 'debug',
      ADMIN_EMAIL: 'Admin@Example.com',
      ADMIN_PASSWORD: 'long-enough-pw',
      REDIS_URL: 'redis://localhost:6379',
      MIGRATIONS_RUN: 'false',
      TRUST_PROXY: '2',
    });
    expect(env).toMatchObject({
      NODE_ENV: 'test',
      PORT: 8080,
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://u:p@localhost:5432/db',
      DB_POOL_MAX: 25,
      CORS_ORIGINS: ['https://app.example.com', 'http://localhost:5173'],
      LOG_LEVEL: 'debug',
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'long-enough-pw',
      REDIS_URL: 'redis://localhost:6379',
      MIGRATIONS_RUN: false,
      TRUST_PROXY: 2,
    });
  });

  it.each([
    ['900', 900],
    ['900s', 900],
    ['15m', 15 * 60],
    ['12h', 12 * 3600],
    ['30d', 30 * 86400],
  ])('reads the duration %s as %d seconds', (value, seconds) => {
    expect(parseEnvironment({ JWT_ACCESS_TTL: value }).JWT_ACCESS_TTL).toBe(seconds);
    expect(parseEnvironment({ JWT_REFRESH_TTL: value }).JWT_REFRESH_TTL).toBe(seconds);
  });

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['NODE_ENV', { NODE_ENV: 'staging' }],
    ['DB_POOL_MAX', { DB_POOL_MAX: '0' }],
    ['DB_STATEMENT_TIMEOUT_MS', { DB_STATEMENT_TIMEOUT_MS: '10' }],
    ['JWT_ACCESS_TTL', { JWT_ACCESS_TTL: '5x' }],
    ['JWT_ACCESS_TTL', { JWT_ACCESS_TTL: '15 m' }],
    ['JWT_ACCESS_TTL', { JWT_ACCESS_TTL: '1s' }],
    ['JWT_REFRESH_TTL', { JWT_REFRESH_TTL: '-30d' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['LOG_FORMAT', { LOG_FORMAT: 'text' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://u:p@localhost:3306/db' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'notaurl' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://app.example.com/path' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://app.example.com,notaurl' }],
    ['MIGRATIONS_RUN', { MIGRATIONS_RUN: 'maybe' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'true' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'yes' }],
    ['TRUST_PROXY', { TRUST_PROXY: '*' }],
    ['TRUST_PROXY', { TRUST_PROXY: '11' }],
    ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.0/33' }],
    ['TRUST_PROXY', { TRUST_PROXY: '999.1.1.1' }],
    ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.1, proxy.internal' }],
    ['TRUST_PROXY', { TRUST_PROXY: '::1/129' }],
    ['RATE_LIMIT_PER_MINUTE', { RATE_LIMIT_PER_MINUTE: '0' }],
    ['ADMIN_EMAIL', { ADMIN_EMAIL: 'not-an-email', ADMIN_PASSWORD: 'long-enough-pw' }],
    ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'admin@example.com' }],
    ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'short' }],
    ['JWT_SECRET', { JWT_SECRET: 'too-short-for-a-secret' }],
    ['DATABASE_POOLER', { DATABASE_POOLER: 'session' }],
    ['DATABASE_DIRECT_URL', { DATABASE_DIRECT_URL: 'http://db:5432/x' }],
    ['DATABASE_DIRECT_URL', { DATABASE_URL: 'postgres://bouncer:6432/x', DATABASE_POOLER: 'transaction' }],
    [
      'DATABASE_REPLICA_URLS',
      { DATABASE_URL: 'postgres://db/x', DATABASE_REPLICA_URLS: 'postgres://r1/x, mysql://r2/x' },
    ],
    ['DATABASE_REPLICA_URLS', { DATABASE_REPLICA_URLS: 'postgres://r1/x' }],
    ['STORAGE_DRIVER', { STORAGE_DRIVER: 'ftp' }],
    ['S3_BUCKET', { STORAGE_DRIVER: 's3' }],
    ['S3_BUCKET', { STORAGE_DRIVER: 's3', S3_BUCKET: 'Not_A_Bucket' }],
    ['S3_ENDPOINT', { S3_ENDPOINT: 'ftp://minio:9000' }],
    ['S3_SECRET_ACCESS_KEY', { S3_ACCESS_KEY_ID: 'AKIA123' }],
    ['S3_ACCESS_KEY_ID', { S3_SECRET_ACCESS_KEY: 'shh' }],
    ['S3_FORCE_PATH_STYLE', { S3_FORCE_PATH_STYLE: 'sometimes' }],
  ])('rejects a bad %s with an EnvError naming it', (variable, raw) => {
    const error = envErrorOf(raw);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });

  it.each([
    [undefined, 0],
    ['false', 0],
    ['0', 0],
    ['1', 1],
    ['3', 3],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 192.168.1.0/24,fd00::/8', ['10.0.0.0/8', '192.168.1.0/24', 'fd00::/8']],
    ['loopback, uniquelocal', ['loopback', 'uniquelocal']],
    ['::1', ['::1']],
  ])('reads TRUST_PROXY=%s as %j (hops, or trusted addresses)', (value, expected) => {
    expect(parseEnvironment({ TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it('reads the replica list, the pooler and the object store', () => {
    const env = parseEnvironment({
      DATABASE_URL: 'postgres://bouncer:6432/tasklane',
      DATABASE_POOLER: 'transaction',
      DATABASE_DIRECT_URL: 'postgres://db:5432/tasklane',
      DATABASE_REPLICA_URLS: ' postgres://r1:5432/tasklane ,postgres://r2:5432/tasklane,',
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'tasklane-files',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(env).toMatchObject({
      DATABASE_POOLER: 'transaction',
      DATABASE_DIRECT_URL: 'postgres://db:5432/tasklane',
      DATABASE_REPLICA_URLS: ['postgres://r1:5432/tasklane', 'postgres://r2:5432/tasklane'],
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'tasklane-files',
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: true,
    });
  });

  it('refuses TRUST_PROXY=true, saying why', () => {
    expect(envErrorOf({ TRUST_PROXY: 'true' }).message).toMatch(/would trust whatever X-Forwarded-For a client sends/);
  });

  it('quotes the bad value in the message where that helps', () => {
    expect(envErrorOf({ PORT: 'abc' }).message).toBe(
      'Invalid environment variable PORT: must be a whole number (got "abc")',
    );
    expect(envErrorOf({ LOG_LEVEL: 'loud' }).message).toContain('"loud"');
  });

  it('never echoes a secret in the message', () => {
    const secret = 'short-secret-value';
    expect(envErrorOf({ JWT_SECRET: secret }).message).not.toContain(secret);
    expect(envErrorOf({ ...PRODUCTION, JWT_SECRET: 'changeme'.repeat(5) }).message).not.toContain('changeme');
  });

  it('accepts CORS_ORIGINS=*', () => {
    expect(parseEnvironment({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
  });

  describe('in production', () => {
    it('requires DATABASE_URL (no embedded PostgreSQL)', () => {
      const { NODE_ENV } = PRODUCTION;
      expect(envErrorOf({ NODE_ENV, JWT_SECRET: STRONG_SECRET }).variable).toBe('DATABASE_URL');
    });

    it.each(['SMTP_URL', 'APP_URL'])('requires %s (invitations and password reset send mail)', (variable) => {
      const raw: Record<string, string> = { ...PRODUCTION, JWT_SECRET: STRONG_SECRET };
      delete raw[variable];
      const error = envErrorOf(raw);
      expect(error.variable).toBe(variable);
      expect(error.message).toContain('required in production');
    });

    it('requires JWT_SECRET', () => {
      expect(envErrorOf({ ...PRODUCTION }).variable).toBe('JWT_SECRET');
    });

    it.each([
      ['short', 'Xk3-9fQz'],
      ['31 characters', STRONG_SECRET.slice(0, 31)],
      ['a placeholder repeated', 'changeme'.repeat(5)],
      ['a spaced placeholder', 'change-me-change-me-change-me-42'],
      ['one character repeated', 'a'.repeat(40)],
      ['a short pattern repeated', 'abc123'.repeat(7)],
      ['the word secret', 'my-super-secret-jwt-key-0123456789'],
    ])('refuses a weak JWT_SECRET (%s)', (_label, secret) => {
      const error = envErrorOf({ ...PRODUCTION, JWT_SECRET: secret });
      expect(error.variable).toBe('JWT_SECRET');
      expect(error.message).toContain('JWT_SECRET');
    });

    it('accepts a strong JWT_SECRET', () => {
      const env = parseEnvironment({ ...PRODUCTION, JWT_SECRET: STRONG_SECRET });
      expect(env.NODE_ENV).toBe('production');
      expect(env.JWT_SECRET).toBe(STRONG_SECRET);
      expect(env.DATABASE_URL).toBe(PRODUCTION.DATABASE_URL);
    });

    it('refuses a weak METRICS_TOKEN or ADMIN_PASSWORD', () => {
      const base = { ...PRODUCTION, JWT_SECRET: STRONG_SECRET };
      expect(envErrorOf({ ...base, METRICS_TOKEN: 'x'.repeat(20) }).variable).toBe('METRICS_TOKEN');
      expect(envErrorOf({ ...base, ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'password1234' }).variable).toBe(
        'ADMIN_PASSWORD',
      );
    });

    it('refuses SEED_DEMO (it creates users with known passwords)', () => {
      const error = envErrorOf({ ...PRODUCTION, JWT_SECRET: STRONG_SECRET, SEED_DEMO: 'true' });
      expect(error.variable).toBe('SEED_DEMO');
      expect(parseEnvironment({ SEED_DEMO: 'true' }).SEED_DEMO).toBe(true);
    });

    it('refuses LOG_FORMAT=pretty (log collectors read JSON lines); json and auto are fine', () => {
      const base = { ...PRODUCTION, JWT_SECRET: STRONG_SECRET };
      expect(envErrorOf({ ...base, LOG_FORMAT: 'pretty' }).variable).toBe('LOG_FORMAT');
      expect(parseEnvironment({ ...base, LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
      expect(parseEnvironment({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    });

    it('accepts the same weak values outside production', () => {
      expect(() => parseEnvironment({ JWT_SECRET: 'a'.repeat(40), METRICS_TOKEN: 'x'.repeat(20) })).not.toThrow();
    });
  });
});
