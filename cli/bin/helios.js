#!/usr/bin/env node
// The committed `helios` entry. npm links workspace bins at install time, before `prepare` builds
// dist/, and silently skips a bin whose target is missing: so `bin` points here, a file that always
// exists, and this loads the build (or says how to make it).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/bin/helios.js', import.meta.url));
if (!existsSync(built)) {
  process.stderr.write(`helios: HLS_ERR_NOT_BUILT: ${built} is missing; run \`npm run build\` at the repository root (npm ci does it through prepare)\n`);
  process.exit(1);
}
await import(pathToFileURL(built).href);
