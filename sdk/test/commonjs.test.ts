import { expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../examples/commonjs-app.cjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

// Evidence for shipping ESM only: a CommonJS app require()s the package and its middleware subpath.
it.skipIf(!built)('a CommonJS app can require() the SDK and its middleware', async () => {
  const { stdout } = await run(process.execPath, [example], { timeout: 30_000 });
  expect(JSON.parse(stdout.trim())).toEqual({ init: 'function', withHelios: 'function', enabled: true });
});
