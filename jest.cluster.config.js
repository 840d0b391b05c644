// npm run test:cluster: three built instances behind nginx with PgBouncer, a replica, Redis and an
// S3 server (test/cluster/, docs/cluster-test.md). Not part of `npm test`: its files end in
// .cluster-spec.ts, which jest.config.js does not match, and it starts its own PostgreSQL.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: 'test/cluster/.*\\.cluster-spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.(t|j)s$': ['@swc/jest', require('./tools/swc-options')],
  },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
  testTimeout: 60_000,
  // Time-bounded whatever happens: afterAll stops everything (and test/cluster/reaper.ts kills
  // whatever is left once Jest has exited), so nothing may keep Jest waiting after it.
  forceExit: true,
};
