// The layering of docs/architecture.md, checked by `npm run lint`
// (dependency-cruiser). Type-only imports count: a cycle through types is a
// cycle a reader has to untangle all the same.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lower-layers-import-no-module',
      comment:
        'common, infra and config sit below the domain modules: they never import src/modules. ' +
        'What a lower layer needs from the domain is passed in by the composition root (src/app.module.ts, src/entities.ts).',
      severity: 'error',
      from: { path: '^src/(common|infra|config)/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'common-imports-no-infra',
      comment:
        'common holds the envelope, the error table and decorators: it depends on no infrastructure.',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { path: '^src/infra/' },
    },
    {
      name: 'module-through-its-index',
      comment:
        'A module is imported only through its index.ts: from outside src/modules/X, nothing but src/modules/X/index.ts ' +
        "(a module's own sub-barrels, such as auth/sessions/index.ts, are for its own files).",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: {
        path: '^src/modules/([^/]+)/.+',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'module-through-its-index-from-outside',
      comment:
        'Outside src/modules (the composition root, the CLI), a module is imported only through its index.ts.',
      severity: 'error',
      from: { pathNot: ['^src/modules/', '\\.spec\\.ts$'] },
      to: {
        path: '^src/modules/[^/]+/.+',
        pathNot: '^src/modules/[^/]+/index\\.ts$',
      },
    },
    {
      name: 'infra-and-common-through-their-index',
      comment:
        'A folder of src/infra or src/common is used through its index.ts from outside it ' +
        '(database/insert-many.ts through database/index.ts, errors/dependency-failure.ts through errors/index.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(infra|common)/', '\\.spec\\.ts$'] },
      to: {
        path: '^src/(infra|common)/[^/]+/.+',
        pathNot: '^src/(infra|common)/[^/]+/index\\.ts$',
      },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles, value or type.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
