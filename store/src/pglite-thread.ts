import { parentPort, workerData } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { FromPgliteThread, PgliteThreadData, ToPgliteThread } from './pglite.js';

/**
 * The embedded database's own thread (pglite.ts is its client): PGlite is single-threaded WASM, and in the
 * pipeline it took four fifths of the thread that also runs the bus, detection and reporting. Requests run
 * in the order they come; the client keeps a transaction's statements together.
 */
const { dataDir } = workerData as PgliteThreadData;
const port = parentPort!;
if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
// pg_trgm: migration 8's text index for event search (loaded here; CREATE EXTENSION enables it per database).
const db = dataDir === undefined ? new PGlite({ extensions: { pg_trgm } }) : new PGlite(dataDir, { extensions: { pg_trgm } });

/** What a driver error says, as plain data (structured clone keeps an Error's message, not its SQLSTATE). */
function errorFields(err: unknown): Extract<FromPgliteThread, { ok: false }>['error'] {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const { code, detail, hint, severity } = err as Error & Record<string, unknown>;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(typeof detail === 'string' ? { detail } : {}), ...(typeof hint === 'string' ? { hint } : {}), ...(typeof severity === 'string' ? { severity } : {}) };
}

async function run(request: ToPgliteThread): Promise<unknown> {
  switch (request.op) {
    case 'query':
      return (await db.query(request.text, request.params)).rows;
    case 'exec':
      await db.exec(request.text);
      return undefined;
    case 'copy':
      // PGlite has no COPY stream from a client; it reads a Blob handed with the query as the file /dev/blob.
      return (await db.query(`COPY ${request.target} FROM '/dev/blob'`, [], { blob: new Blob([request.data]) })).affectedRows ?? 0;
    case 'close':
      await db.close();
      return undefined;
  }
}

port.on('message', (request: ToPgliteThread) => {
  run(request).then(
    (value) => port.postMessage({ id: request.id, ok: true, value } satisfies FromPgliteThread),
    (err: unknown) => port.postMessage({ id: request.id, ok: false, error: errorFields(err) } satisfies FromPgliteThread),
  );
});
db.waitReady.then(
  () => port.postMessage({ id: -1, ok: true, value: undefined } satisfies FromPgliteThread),
  (err: unknown) => port.postMessage({ id: -1, ok: false, error: errorFields(err) } satisfies FromPgliteThread),
);
