// Lint rules follow the habits in STYLE.md: type-only imports, node: builtins, no floating promises.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'path',
  'crypto',
  'child_process',
  'os',
  'http',
  'net',
  'url',
  'util',
  'events',
  'stream',
].map((name) => ({ name, message: `Import 'node:${name}' instead.` }));

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'data', 'web/dist', 'coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': ['error', { paths: nodeBuiltins }],
    },
  },
  {
    // Dependencies point inward (docs/architecture.md): healing/ uses these
    // layers, so none of them may import healing/ back.
    files: [
      'src/{incidents,memory,llm,exec,approvals,monitors,engine,nodes,db,queue,notify}/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins,
          patterns: [
            {
              group: ['**/healing/*'],
              message: 'healing/ sits above this layer: it may import this, not the reverse.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  prettier,
);
