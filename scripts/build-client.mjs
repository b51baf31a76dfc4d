// The client library (src/client/, DESIGN.md "Client library") as one minified ES module with no
// dependencies, for browsers and Node: dist/client/holdfast.js, served by the server at
// GET /client.js and exported by the package as `holdfast/client`, with its type declarations
// (dist/client/types/client/holdfast.d.ts, with the contract types it names). Run by
// `npm run build` after tsc.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

await build({
  entryPoints: ['src/client/holdfast.ts'],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  outfile: 'dist/client/holdfast.js',
});
execFileSync(
  process.execPath,
  [
    'node_modules/typescript/bin/tsc',
    '--declaration',
    '--emitDeclarationOnly',
    '--strict',
    '--skipLibCheck',
    '--target',
    'ES2022',
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--lib',
    'ES2022,DOM',
    '--types',
    'node',
    '--rootDir',
    'src',
    '--outDir',
    'dist/client/types',
    'src/client/holdfast.ts',
  ],
  { stdio: 'inherit' },
);
