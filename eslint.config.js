// ESLint flat config. Besides typescript-eslint's recommended type-aware rules it enforces the
// layering of README.md ("Architecture") with a local rule, `edn/layering`: imports only point
// downward, and the pure layers (firmware-protocol, src/domain) import nothing platform-specific.
// A second local rule, `edn/choke-point` (eslint.choke-point.js), enforces with type information
// that no SET, START or AMP frame is built without the guard's Checked value.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { chokePointPlugin } from './eslint.choke-point.js';
import { layeringPlugin } from './eslint.layering.js';

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', 'out/**', 'test-results/**', 'electron/renderer/dist/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'src/cli/edn.js', 'src/cli/launch.js', 'electron/*.js', 'electron/main/*.cjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { edn: { rules: { ...layeringPlugin.rules, ...chokePointPlugin.rules } } },
    rules: {
      'edn/layering': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Library layers report through values and events, never by printing.
    files: ['firmware-protocol/**/*.ts', 'src/domain/**/*.ts', 'src/device/**/*.ts', 'src/session/**/*.ts', 'src/simulator/**/*.ts', 'src/app/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The stimulation choke point, in the host's sources (the simulator is the device: it answers
    // SET, START and AMP, it never sends them).
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', 'src/simulator/**'],
    rules: { 'edn/choke-point': 'error' },
  },
  {
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
