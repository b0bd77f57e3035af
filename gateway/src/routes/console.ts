import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { HeliosError } from '@helios/core';
import type { GatewayResponse } from '../http/transport.js';

/**
 * The web console's static files (@helios/console): `GET /` is its page, `GET /console/<version>/<file>`
 * its scripts, styles and icon. Not part of the API (and not in the OpenAPI document): they need no key,
 * the page asks for one and sends it with each API call.
 *
 * The version in the path is a hash of the files, so they are cached for a year (immutable) and an
 * upgrade is picked up at the next load of `/` (no-cache). Every answer carries a strict
 * Content-Security-Policy: scripts, styles, images and connections from this origin only, no inline
 * script or style, no framing, so an event message that slipped past escaping still could not run.
 */
export const CONSOLE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "font-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
};

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin',
};

/** A file's bytes as served: as built, and compressed once when that saves bytes (images already are). */
export interface ConsoleFile {
  body: Buffer;
  type: string;
  br?: Buffer;
  gzip?: Buffer;
}

export interface ConsoleFiles {
  /** Hash of every file: the path segment that makes them cacheable for good. */
  version: string;
  /** The page, with the versioned paths filled in. */
  index: ConsoleFile;
  /** By path below /console/<version>/ (e.g. `views/events.js`). */
  files: ReadonlyMap<string, ConsoleFile>;
  /** Bytes of everything a first visit loads (the page and every file), uncompressed. */
  totalBytes: number;
  /** The same with brotli, what a current browser downloads. */
  brotliBytes: number;
}

/**
 * Text files compressed once, when the files are loaded (at the first request; a few tens of kilobytes,
 * well under a second at the highest levels), never per request. Not at build: the build is `tsc -b`, and
 * compressed copies written beside the files would go stale whenever that runs alone.
 */
function compressed(body: Buffer, type: string): ConsoleFile {
  if (type.startsWith('image/png')) return { body, type };
  const br = brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: zlibConstants.BROTLI_MAX_QUALITY, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } });
  const gzip = gzipSync(body, { level: 9 });
  return { body, type, ...(br.length < body.length ? { br } : {}), ...(gzip.length < body.length ? { gzip } : {}) };
}

/**
 * The encoding to send: brotli, then gzip, when the client's Accept-Encoding lists it with a q above 0
 * (RFC 9110 §12.5.3; `*` counts for both); identity otherwise.
 */
export function chooseEncoding(acceptEncoding: string, file: ConsoleFile): 'br' | 'gzip' | undefined {
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (name === undefined || name === '') continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const accepts = (name: string) => (q.get(name) ?? q.get('*') ?? 0) > 0;
  if (file.br !== undefined && accepts('br')) return 'br';
  if (file.gzip !== undefined && accepts('gzip')) return 'gzip';
  return undefined;
}

/** The console package's folder, or undefined when it is not installed next to the gateway. */
export function locateConsole(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('@helios/console/package.json'));
  } catch {
    return undefined;
  }
}

function walk(dir: string, into: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // not built yet: reported below as a missing file
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, into);
    else into.push(path);
  }
}

/** Read the console's static/ and compiled dist/ files (only the kinds a browser loads: no .d.ts, no maps). */
export function loadConsoleFiles(root: string): ConsoleFiles {
  const files = new Map<string, ConsoleFile>();
  const hash = createHash('sha256');
  for (const base of ['static', 'dist']) {
    const found: string[] = [];
    walk(join(root, base), found);
    for (const path of found.sort()) {
      const type = CONTENT_TYPES[extname(path)];
      if (type === undefined || path.endsWith('.d.ts')) continue;
      const name = relative(join(root, base), path).split(sep).join('/');
      const body = readFileSync(path);
      files.set(name, compressed(body, type));
      hash.update(name).update('\0').update(body);
    }
  }
  const page = files.get('index.html');
  if (page === undefined || !files.has('main.js')) throw new HeliosError('HLS_ERR_NOT_FOUND', `the web console in ${root} is not built (no static/index.html or dist/main.js): run npm run build`);
  files.delete('index.html');
  const version = hash.digest('hex').slice(0, 12);
  const index = compressed(Buffer.from(page.body.toString('utf8').replaceAll('{{version}}', version)), page.type);
  let totalBytes = 0;
  let brotliBytes = 0;
  for (const f of [index, ...files.values()]) {
    totalBytes += f.body.length;
    brotliBytes += (f.br ?? f.body).length;
  }
  return { version, index, files, totalBytes, brotliBytes };
}

/**
 * The console's routes. `root` is the package folder (default: found next to the gateway; null: not
 * installed). Files are read once, at the first request.
 */
/** A file's answer in the encoding the client accepts; Vary tells caches the answer depends on Accept-Encoding. */
function answer(file: ConsoleFile, acceptEncoding: string, cacheControl: string): GatewayResponse {
  const encoding = chooseEncoding(acceptEncoding, file);
  const headers: Record<string, string> = { 'content-type': file.type, 'cache-control': cacheControl, ...SECURITY_HEADERS };
  if (file.br !== undefined || file.gzip !== undefined) headers['vary'] = 'Accept-Encoding';
  if (encoding === undefined) return { status: 200, headers, body: file.body };
  headers['content-encoding'] = encoding;
  return { status: 200, headers, body: file[encoding]! };
}

export function createConsoleRoutes(options: { root?: string | null } = {}): { serve(path: string, acceptEncoding?: string): GatewayResponse | undefined } {
  const root = options.root === undefined ? locateConsole() : (options.root ?? undefined);
  let loaded: ConsoleFiles | undefined;
  const load = (): ConsoleFiles => {
    if (root === undefined) throw new HeliosError('HLS_ERR_NOT_FOUND', 'the web console is not installed (package @helios/console not found); the API is at /api/v1 (see /api/v1/openapi.json)');
    return (loaded ??= loadConsoleFiles(root));
  };
  return {
    serve(path, acceptEncoding = '') {
      if (path === '/') return answer(load().index, acceptEncoding, 'no-cache');
      if (!path.startsWith('/console/')) return undefined;
      const files = load();
      const rest = path.slice('/console/'.length);
      const slash = rest.indexOf('/');
      const version = slash < 0 ? rest : rest.slice(0, slash);
      const name = slash < 0 ? '' : rest.slice(slash + 1);
      if (version !== files.version) throw new HeliosError('HLS_ERR_NOT_FOUND', `no console file ${path}: this server's console is version ${files.version} (reload the page at /)`);
      const file = files.files.get(name);
      if (file === undefined) throw new HeliosError('HLS_ERR_NOT_FOUND', `no console file ${name}`);
      return answer(file, acceptEncoding, 'public, max-age=31536000, immutable');
    },
  };
}
