/** One page of a keyset-paginated list, newest first (its own file: the store and the incident store both page). */
export interface Page<T> {
  items: T[];
  /** Pass as `before` to get the next (older) page; undefined on the last page. */
  nextCursor: string | undefined;
}
