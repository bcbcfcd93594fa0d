// Lint configuration: typescript-eslint's recommended rules on every TypeScript file
// (TypeScript itself checks names, so no list of globals is needed).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['node_modules/', 'reports/', '.clinic/'] }, js.configs.recommended, ...tseslint.configs.recommended, {
  files: ['**/*.ts'],
  rules: {
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
  },
});
