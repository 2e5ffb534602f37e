// ESLint over src/, test/ and bench/ (`npm run lint`): typescript-eslint's recommended rules with type
// information (projectService reads tsconfig.json); Prettier owns the layout, so
// eslint-config-prettier switches every formatting rule off. Each tuned rule says why.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // The MiCA pages' browser scripts are served as written; test/mica-pages-browser.e2e-spec.ts runs them in Chromium.
  { ignores: ['dist/', 'coverage/', 'test/client/generated/', 'src/pages/public/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks a parameter a signature requires but the body does not use (Nest's param decorators, Express handlers).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Static factories are handed to map on purpose (`rows.map(InstanceDto.from)`); they use no `this`.
      '@typescript-eslint/unbound-method': ['error', { ignoreStatic: true }],
      // A caught error (`unknown`) handed on as a rejection is passed on as caught, not a new non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Input rules match control characters on purpose: that is how they refuse them.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      // expect(obj.method).toHaveBeenCalled() is jest's idiom, not a lost `this`.
      '@typescript-eslint/unbound-method': 'off',
      // The suites read HTTP answers untyped (supertest's `res.body: any`) and assert their shape field by
      // field; typing every answer would restate the DTOs the contract tests already check.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  prettier,
);
