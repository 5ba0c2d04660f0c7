// Shared Jest settings: TypeScript through SWC (fast; type checking is the `typecheck` target's job).
module.exports = {
  testEnvironment: require.resolve('./jest.environment.js'), // node, with host-realm typed arrays (see the file)
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  reporters: ['default', require.resolve('./scripts/jest-count-reporter.js')],
};
