// The import rules of src/ (README "Layout"), checked by `npm run deps` (part of `npm run lint`,
// so of `npm test`). Type-only imports count: `tsPreCompilationDeps` keeps them in the graph.
const SRC_FOLDERS = '^src/[^/]+/';
const NODE_BUILTINS = `^(node:)?(${require('node:module').builtinModules.join('|')})$`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module imports itself back, through any chain of imports (type-only ones included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment:
        'The folders of src/ form a graph without cycles: a folder never reaches itself back ' +
        'through other folders, even when no single module does.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'contract-is-a-leaf',
      comment:
        'src/contract/ (codes, channel names, stream positions, cursors, epochs, publications) is ' +
        'the vocabulary every part shares: it imports nothing of src/.',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { path: SRC_FOLDERS, pathNot: '^src/contract/' },
    },
    {
      name: 'config-is-a-leaf',
      comment: 'src/config/ (the options table) imports nothing of src/.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: SRC_FOLDERS, pathNot: '^src/config/' },
    },
    {
      name: 'http-is-a-leaf',
      comment: 'src/http/ (JSON answers, CORS) imports only the vocabulary and the options.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: SRC_FOLDERS, pathNot: '^src/(http|contract|config)/' },
    },
    {
      name: 'engines-stay-below',
      comment:
        'Engines move publications and keep history; they know nothing of sessions, transports, ' +
        'the HTTP server, the API, metrics or the primary (DESIGN.md "Engines").',
      severity: 'error',
      from: { path: '^src/engines/' },
      to: { path: '^src/(core|transports|server|api|observe|cluster|cli)/' },
    },
    {
      name: 'core-stays-below',
      comment:
        'The core delivers to sessions through the Transport interface; it imports no transport, ' +
        'server or API.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/(transports|server|api|http|observe|cluster|cli)/' },
    },
    {
      name: 'transports-stay-below',
      comment:
        'Transports move bytes for the core; what they need of the server (limits, admission) is ' +
        'given to them, never imported (DESIGN.md "Transports").',
      severity: 'error',
      from: { path: '^src/transports/' },
      to: { path: '^src/(engines|server|api|cluster|cli)/' },
    },
    {
      name: 'auth-stays-below',
      comment:
        'Access decisions (tokens, namespace rules, the backend proxy) know nothing of sessions, ' +
        'transports, engines or the server: transports ask them (auth/access.ts).',
      severity: 'error',
      from: { path: '^src/auth/' },
      to: { path: '^src/(core|transports|engines|server|api|observe|cluster|cli)/' },
    },
    {
      name: 'client-stands-alone',
      comment:
        'src/client/ ships to browsers as one module without dependencies: it imports nothing of ' +
        "the server's folders (type-only imports of src/contract/ at most, erased at compile time).",
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: SRC_FOLDERS, pathNot: '^src/(client|contract)/' },
    },
    {
      name: 'client-no-node-or-packages',
      comment: 'src/client/ runs in browsers: no node: modules and no packages.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'src-not-to-tests',
      comment: 'What ships (src/) never imports the tests or the benchmark scripts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-orphans',
      comment:
        'A module of src/ or test/ that nothing imports and that imports nothing is dead code ' +
        '(the scripts of bench/ are entry points that may stand alone).',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: ['\\.d\\.ts$', '^src/observe/dashboard/assets/', '\\.test\\.ts$', '^bench/'],
      },
      to: {},
    },
  ],
  options: {
    // Node's modules and the packages are in the graph too (not followed), so that
    // client-no-node-or-packages sees them.
    includeOnly: ['^(src|test|bench)/', '^node_modules/', NODE_BUILTINS],
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
