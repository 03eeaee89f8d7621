// ESLint (flat config) for obi-ts: the opentelemetry-js style set (no export *, import type, _private,
// no floating promises), type-aware.
// Run by `make eslint` (part of `make lint`, which `make test` runs first).
import tseslint from 'typescript-eslint';

/** the pure layers: no timers (docs/devdocs/architecture.md: protocols/ and telemetry/ are pure) */
const PURE = ['src/protocols/**/*.ts', 'src/telemetry/**/*.ts', 'src/common/**/*.ts'];
/** test code (as in .dependency-cruiser.cjs) */
const TEST = ['**/*.test.ts', '**/testdata/**'];

export default tseslint.config(
  {
    // generated code (src/abi from BTF, src/config/generated from the schema) is checked at its generator
    ignores: ['node_modules/', 'build/', '.tools/', 'bpf/', 'native/', 'deploy/', 'src/abi/', 'src/config/generated/'],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // explicit exports: every public name is listed where it is exported (otel-js)
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'No `export *`: name the exports.' }],
      // a type-only import is written `import type` (erased; no runtime edge; see the type-only dependency rules)
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/consistent-type-exports': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // TypeScript `private` members carry a leading underscore (otel-js)
      '@typescript-eslint/naming-convention': [
        'error',
        { selector: 'memberLike', modifiers: ['private'], format: null, leadingUnderscore: 'require' },
      ],
      // every promise is awaited, returned, or explicitly `void`ed (type-aware)
      // (node:test's test/describe/it return promises the runner itself awaits)
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // `any` only where marked with a disable comment saying why
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: PURE,
    ignores: TEST,
    rules: {
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'fetch', 'require'].map((name) => ({
          name,
          message: 'protocols/, telemetry/ and common/ are pure: no timers or I/O (docs/devdocs/architecture.md).',
        })),
      ],
    },
  },
);
