import { Worker } from 'node:worker_threads';
import { HeliosError, workerModuleUrl } from '@helios/core';
import type { SqlClient, SqlQueryable, SqlTransaction } from './sql-client.js';

/** What the database thread (pglite-thread.ts) is started with. */
export interface PgliteThreadData {
  /** Folder of the database files; undefined keeps the database in memory. */
  dataDir: string | undefined;
}

/** Client -> database thread. */
export type ToPgliteThread = { id: number } & (
  | { op: 'query'; text: string; params: unknown[] | undefined }
  | { op: 'exec'; text: string }
  | { op: 'copy'; target: string; data: string }
  | { op: 'close' }
);

/** Database thread -> client; id -1 says the database is open (or why not). */
export type FromPgliteThread =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string; detail?: string; hint?: string; severity?: string } };

type Request = ToPgliteThread extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/**
 * Embedded PostgreSQL (PGlite, WASM) on a worker thread of its own, so its work runs on another core than
 * the bus, detection and reporting of the thread that uses it. `dataDir` undefined or ':memory:' keeps the
 * database in memory. PGlite has one session: statements run one at a time, a transaction's together (no
 * other statement runs between its BEGIN and COMMIT), as on PGlite's own thread.
 */
export async function createPgliteClient(dataDir?: string): Promise<SqlClient> {
  const inMemory = dataDir === undefined || dataDir === ':memory:';
  const worker = new Worker(workerModuleUrl(import.meta.url, 'pglite-thread.js'), { workerData: { dataDir: inMemory ? undefined : dataDir } satisfies PgliteThreadData });
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let nextId = 0;
  /** Why no request can be sent any more (closed, or the thread died). */
  let refused: Error | undefined;

  const settle = (id: number) => {
    const waiting = pending.get(id);
    pending.delete(id);
    return waiting;
  };
  const failAll = (err: Error) => {
    refused ??= err;
    for (const id of [...pending.keys()]) settle(id)?.reject(err);
  };
  worker.on('message', (message: FromPgliteThread) => {
    const waiting = settle(message.id);
    if (message.ok) waiting?.resolve(message.value);
    else waiting?.reject(Object.assign(new Error(message.error.message), message.error));
  });
  worker.on('error', (err) => failAll(new HeliosError('HLS_ERR_STORE', `the embedded database thread failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => failAll(new HeliosError('HLS_ERR_STORE', `the embedded database thread exited (code ${code})`)));

  // The open database holds the process open until close (as a connection pool's sockets do): a shutdown
  // waiting on unref'd timers between two writes must not end the process before its last write.
  function waitFor(id: number): Promise<unknown> {
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }
  function send(request: Request): Promise<unknown> {
    if (refused !== undefined) return Promise.reject(refused);
    const id = nextId++;
    const answer = waitFor(id);
    worker.postMessage({ ...request, id });
    return answer;
  }

  try {
    await waitFor(-1);
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  // One statement or transaction at a time: a standalone statement waits for a transaction to end.
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = turn.then(fn);
    turn = run.catch(() => undefined);
    return run;
  }

  const session: SqlTransaction = {
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await send({ op: 'query', text, params })) as R[] }),
    exec: async (text: string) => {
      await send({ op: 'exec', text });
    },
    copyFrom: async (target: string, data: string) => (await send({ op: 'copy', target, data })) as number,
  };
  const standalone: SqlQueryable = {
    query: (text, params) => exclusive(() => session.query(text, params)),
    exec: (text) => exclusive(() => session.exec(text)),
  };

  let closing: Promise<void> | undefined;
  return {
    dialect: 'pglite',
    ...standalone,
    transaction: (fn) =>
      exclusive(async () => {
        await session.exec('BEGIN');
        try {
          const result = await fn(session);
          await session.exec('COMMIT');
          return result;
        } catch (err) {
          await session.exec('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    close() {
      closing ??= exclusive(async () => {
        await send({ op: 'close' }).catch(() => undefined);
        refused ??= new HeliosError('HLS_ERR_STORE', 'the embedded store is closed');
        await worker.terminate();
      });
      return closing;
    },
  };
}
