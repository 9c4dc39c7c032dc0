// ESLint flat config (kept under tests/ so the top level stays to the agreed entries).
// The import rule keeps TensorFlow.js out of UI code: only the worker owns tensors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    files: ['src/ui/**', 'src/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tensorflow/*'], message: 'The UI thread never imports tfjs: talk to the worker through src/lib/protocol.' },
            { group: ['**/lib/model/**', '**/lib/rl/**', '**/worker/**'], message: 'UI code imports only the protocol, config and metric types.' },
          ],
        },
      ],
      // No text is ever parsed as HTML (issue 12): Svelte's escaped interpolation, or textContent.
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({ property, message: 'Render text with Svelte or textContent: HTML from a string is an injection risk.' })),
        { object: 'document', property: 'write', message: 'Render text with Svelte or textContent: HTML from a string is an injection risk.' },
      ],
    },
  },
);
