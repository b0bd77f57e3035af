export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Run a script of several statements without parameters. */
  exec(text: string): Promise<void>;
}

/** Statements on one connection inside BEGIN ... COMMIT. */
export interface SqlTransaction extends SqlQueryable {
  /**
   * Bulk load with COPY ... FROM STDIN; `data` is the COPY text format. Only node-postgres offers it,
   * so callers check for it and fall back to multi-row statements.
   */
  copyFrom?(copySql: string, data: string): Promise<number>;
}

/** The smallest surface both node-postgres and PGlite offer; the store's SQL is the same on both. */
export interface SqlClient extends SqlQueryable {
  /** Run `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly dialect: 'pglite' | 'postgres';
}
