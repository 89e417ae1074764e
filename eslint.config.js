// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * The folders of src/ import in one direction only, each from the layers before it:
 * pg → catalog → codec → format → export | import | verify | schema | storage → users → migrate → demo → cli.
 * Folders of one layer do not import each other. Top-level files (errors, settings, version) are shared;
 * index.ts, the library's entry, may import every folder but the CLI.
 */
const LAYERS = [
  ['pg'],
  ['catalog'],
  ['codec'],
  ['format'],
  ['export', 'import', 'verify', 'schema', 'storage'],
  ['users'],
  ['migrate'],
  ['demo'],
  ['cli'],
];

const layering = LAYERS.flatMap((layer, i) =>
  layer.map((folder) => {
    const forbidden = [...layer.filter((f) => f !== folder), ...LAYERS.slice(i + 1).flat()];
    return {
      files: [`src/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: forbidden.map((f) => ({
              group: [`../${f}/*`, `../../${f}/*`, `../${f}`, `../../${f}`],
              message: `src/${folder} comes before src/${f} (${LAYERS.map((l) => l.join('|')).join(' → ')}): move the shared piece down a layer instead.`,
            })),
          },
        ],
      },
    };
  }),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'migration-data*/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      // This code is heavily concurrent: a promise nobody awaits loses its error and its ordering.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Small files: one concept each.
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400 }] },
  },
  {
    files: ['src/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['./cli/*'], message: 'the library never imports the CLI' }] },
      ],
    },
  },
  ...layering,
  {
    // Only the CLI, the benchmark and test helpers talk to the terminal.
    files: ['src/cli/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
);
