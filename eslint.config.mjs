// ESLint (flat config): typescript-eslint's recommended rules, Prettier for formatting, and the
// house rules of docs/STYLE: no process.env outside libs/core/src/config, no deep imports across libs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.data/**',
      'sdk/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
      'libs/client/src/generated/**',
      'libs/client/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { parserOptions: { ecmaVersion: 2023, sourceType: 'module' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-useless-assignment': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@saasready/*/*', '**/libs/*/src/**'], message: 'Import a lib through its index (@saasready/<lib>).' }] },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through AppConfig (libs/core/src/config).' },
      ],
    },
  },
  {
    files: ['libs/core/src/config/**', 'test/**', 'bench/**', 'scripts/**', 'migrations/data-source.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
