// Removes compiled files whose source is gone (a moved or deleted .ts), so that `node --test
// dist/test/` never runs a test, and nothing imports a module, that no longer exists in the tree.
// tsc writes dist/ but never deletes from it. Run by `npm run build` after tsc.
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const DIST = 'dist';
// Copied by the build, not compiled: kept as they are.
const KEEP = [join(DIST, 'src/observe/dashboard/assets')];

function prune(dir) {
  if (KEEP.includes(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmdirSync(path);
      continue;
    }
    const m = /^(.*)\.js(\.map)?$/.exec(entry.name);
    if (m === null) continue;
    const source = join(relative(DIST, dir), `${m[1]}.ts`);
    if (!existsSync(source)) rmSync(path);
  }
}

for (const top of ['src', 'test', 'bench']) {
  const dir = join(DIST, top);
  if (existsSync(dir)) prune(dir);
}
