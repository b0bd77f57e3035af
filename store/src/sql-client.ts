/** The smallest surface both node-postgres and PGlite offer; the store's SQL is the same on both. */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Run a script of several statements without parameters. */
  exec(text: string): Promise<void>;
  close(): Promise<void>;
  readonly dialect: 'pglite' | 'postgres';
}
