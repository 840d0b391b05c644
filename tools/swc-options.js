// How TypeScript is compiled for tests: Jest (jest.config.js) and processes the tests start
// (tools/swc-register.js) use the same options, with decorators and their metadata as Nest needs.
module.exports = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    target: 'es2023',
    keepClassNames: true,
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
