export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Run a script of several statements without parameters. */
  exec(text: string): Promise<void>;
}

/** Statements on one connection inside BEGIN ... COMMIT. */
export interface SqlTransaction extends SqlQueryable {
  /**
   * Bulk load with COPY: `target` is a table and its column list (`t (a, b)`), `data` the COPY text
   * format. node-postgres streams it FROM STDIN; PGlite reads it FROM '/dev/blob'. Returns the rows copied.
   */
  copyFrom(target: string, data: string): Promise<number>;
}

/** The smallest surface both node-postgres and PGlite offer; the store's SQL is the same on both. */
export interface SqlClient extends SqlQueryable {
  /** Run `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly dialect: 'pglite' | 'postgres';
}
