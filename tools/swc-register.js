// `node -r ./tools/swc-register.js src/main.ts`: runs the TypeScript sources directly,
// so that a test can start the real server process without a build.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');
const options = require('./swc-options');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
