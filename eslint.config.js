// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '.dist-*/', 'node_modules/', 'coverage/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The pure core must not reach for I/O or the clock.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:fs', 'node:fs/*', 'fs', 'node:net', 'node:http', 'node:https', 'node:child_process', 'node:os'], message: 'src/core is pure: no I/O.' },
          { group: ['**/adapters/**', '**/shell/**', '@aws-sdk/*', 'ldapts', 'better-sqlite3'], message: 'src/core must not depend on adapters, shell or clients.' },
        ],
      }],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/core has no clock: pass `now` in.' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'src/core has no clock: pass `now` in.' },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/shell/**'], message: 'adapters must not depend on the shell.' }] }],
    },
  },
);
