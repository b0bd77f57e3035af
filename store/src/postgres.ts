import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import pgCopyStreams from 'pg-copy-streams';
import { HeliosError, type Logger } from '@helios/core';
import type { SqlClient, SqlTransaction } from './sql-client.js';

// SQLSTATEs after which the same statement can succeed later: connection failures (class 08),
// server shutting down or starting (57P01-57P03), too many connections, serialization and deadlock.
const TRANSIENT_SQLSTATE = /^(08...|57P0[1-3]|53300|40001|40P01)$/;

const NETWORK_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTCONN']);
// node-postgres reports a lost or unobtainable connection with plain Errors carrying these messages.
const DRIVER_CONNECTION_MESSAGE = /connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|connection ended|not queryable/i;

/**
 * True when a store error means "the database is unreachable or busy; retry the same write later"
 * rather than "this write is wrong": refused or reset connections, a connection lost mid-query, the
 * server shutting down or starting, too many connections. Anything else (a bug, a constraint) is not,
 * so a writer never retries it forever.
 */
export function isTransientStoreError(err: unknown): boolean {
  const cause = err instanceof HeliosError ? (err as Error).cause : err;
  if (cause instanceof pg.DatabaseError) return TRANSIENT_SQLSTATE.test(cause.code ?? '');
  if (!(cause instanceof Error)) return false;
  const errno = (cause as NodeJS.ErrnoException).code;
  if (errno !== undefined && NETWORK_ERRNO.has(errno)) return true;
  if (cause instanceof AggregateError) return cause.errors.some((e) => isTransientStoreError(e));
  return DRIVER_CONNECTION_MESSAGE.test(cause.message);
}

/** Every driver error leaves the store as HLS_ERR_STORE, with the SQLSTATE (when any) in the message and the driver error as cause. */
export function toStoreError(err: unknown, what: string): HeliosError {
  if (err instanceof HeliosError) return err;
  const code = err instanceof pg.DatabaseError && err.code !== undefined ? ` [${err.code}]` : '';
  return new HeliosError('HLS_ERR_STORE', `${what}: ${(err as Error)?.message ?? String(err)}${code}`, { cause: err });
}

export interface PostgresClientOptions {
  logger?: Logger;
}

/**
 * A node-postgres pool behind the SqlClient surface. Connections broken by a server restart are
 * dropped from the pool (the pool's `error` event is handled, so an idle connection dying never
 * crashes the process) and new ones are opened on the next query.
 */
export function createPostgresClient(config: string | pg.PoolConfig, options: PostgresClientOptions = {}): SqlClient {
  const poolConfig: pg.PoolConfig = typeof config === 'string' ? { connectionString: config } : { ...config };
  poolConfig.connectionTimeoutMillis ??= 10_000;
  poolConfig.max ??= 10;
  const pool = new pg.Pool(poolConfig);
  pool.on('error', (err) => options.logger?.warn({ err }, 'idle PostgreSQL connection failed; it was dropped from the pool'));
  let closing: Promise<void> | undefined;

  async function connect(): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      throw toStoreError(err, 'connecting to PostgreSQL');
    }
  }

  function transactionOn(conn: pg.PoolClient): SqlTransaction {
    return {
      query: async <R>(text: string, params?: unknown[]) => ({ rows: (await conn.query(text, params)).rows as R[] }),
      exec: async (text: string) => {
        await conn.query(text);
      },
      copyFrom: async (target: string, data: string) => {
        const stream = conn.query(pgCopyStreams.from(`COPY ${target} FROM STDIN`));
        await pipeline(Readable.from([data]), stream);
        return stream.rowCount;
      },
    };
  }

  return {
    dialect: 'postgres',
    async query<R>(text: string, params?: unknown[]) {
      try {
        return { rows: (await pool.query(text, params)).rows as R[] };
      } catch (err) {
        throw toStoreError(err, 'PostgreSQL query failed');
      }
    },
    async exec(text: string) {
      try {
        await pool.query(text);
      } catch (err) {
        throw toStoreError(err, 'PostgreSQL script failed');
      }
    },
    async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
      const conn = await connect();
      let broken: Error | undefined;
      // A checked-out connection has no pool listener; without one, a server going away between two
      // statements of the transaction would be an uncaught 'error' event. The failing statement reports it.
      const onError = (err: Error) => {
        broken = err;
      };
      conn.on('error', onError);
      try {
        await conn.query('BEGIN');
        const result = await fn(transactionOn(conn));
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await conn.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable (server gone, COPY aborted mid-stream): destroy it, never reuse it.
          broken = rollbackErr as Error;
        }
        throw toStoreError(err, 'PostgreSQL transaction failed');
      } finally {
        conn.off('error', onError);
        conn.release(broken ?? false);
      }
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
