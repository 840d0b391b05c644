import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { YAML11_SCHEMA, load } from 'js-yaml';

/**
 * What docker-compose.yml and the Dockerfile promise their users (docs/deployment.md): every
 * long-running service comes back after a crash or a reboot, the API services read the env file,
 * PostgreSQL is 18, and the image runs an even-numbered (LTS) Node line no older than 24. CI also
 * has Compose itself read the file with each profile (`config -q` in .ci/run); this pins the
 * properties, which that check accepts either way.
 */
const ROOT = join(__dirname, '..');

interface ComposeService {
  image?: string;
  restart?: string;
  env_file?: string | string[];
  profiles?: string[];
}

// YAML 1.1, as Compose reads it: the API replicas are `<<: *scale-api` merges.
const compose = load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { schema: YAML11_SCHEMA }) as {
  services: Record<string, ComposeService>;
};
const services = Object.entries(compose.services);

/** Runs once and exits: a restart policy would run it again. */
const ONE_SHOT = new Set(['minio-init']);

describe('deploy files', () => {
  it('the compose file has the services it documents', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'db',
        'api',
        'mailpit',
        'nginx',
        'api-1',
        'api-2',
        'api-3',
        'pgbouncer',
        'redis',
        'minio',
      ]),
    );
  });

  it.each(services.filter(([name]) => !ONE_SHOT.has(name)))('%s restarts unless stopped', (_name, service) => {
    expect(service.restart).toBe('unless-stopped');
  });

  it('the one-shot bucket setup has no restart policy', () => {
    for (const name of ONE_SHOT) expect(compose.services[name].restart).toBeUndefined();
  });

  it.each(['api', 'api-1', 'api-2', 'api-3'])('%s reads the env file, which TASKLANE_ENV_FILE can name', (name) => {
    expect(compose.services[name].env_file).toBe('${TASKLANE_ENV_FILE:-deploy/tasklane.env}');
    // The default env file exists, so `docker compose up` works without one of your own.
    expect(readFileSync(join(ROOT, 'deploy/tasklane.env'), 'utf8')).toMatch(/JWT_SECRET/);
  });

  it('PostgreSQL is 18', () => {
    expect(compose.services.db.image).toMatch(/^postgres:18(\.\d+)?-/);
  });

  it('the image runs a Node LTS line (even-numbered) no older than 24', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const image = /^ARG NODE_IMAGE=node:(\d+)[-\w.]*$/m.exec(dockerfile);
    expect(image).not.toBeNull();
    const major = Number(image![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(24);
    // Every stage builds FROM that argument, not a pinned image of its own.
    const froms = dockerfile.match(/^FROM .*/gm) ?? [];
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\} AS \w+$/);
  });
});
