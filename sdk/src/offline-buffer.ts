import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ResolvedOfflineBuffer } from './config.js';
import { HeliosSdkError } from './errors.js';

/**
 * Disk-backed buffer for events the gateway could not take.
 *
 * Layout: `<directory>/seg-<epoch ms, 13 digits>-<process token>-<sequence, 8 digits>.ndjson`, one
 * event JSON per line, append-only. File names sort in write order across restarts (time first, then the
 * per-process sequence), and replay goes oldest first, so delivery order is write order.
 *
 * Invariants:
 * - A segment is deleted only after every line in it was answered 2xx (or rejected as invalid).
 * - Progress inside a segment (lines answered so far) is kept in `<segment>.acked`, so a restart resumes
 *   after the answered lines.
 * - Lines carry the event's UUID v7 `id`, assigned once at `event()`; a replay after a crash between the
 *   2xx and the delete (or the `.acked` update) resends the same ids, which the gateway stores once. That
 *   is the only way a line is sent twice.
 * - A torn last line (crash mid-append) fails to parse and is skipped; the lines before it are intact.
 * - `fsync: 'always'` syncs after each appended batch before the batch counts as persisted.
 * - One process per directory: `LOCK` holds the owner's pid; a live owner makes this buffer stay off.
 *
 * All methods are called from the exporter's single send loop, never concurrently.
 */
export interface OfflineBuffer {
  /** Append serialized events; false when maxBytes would be exceeded or the write failed (nothing persisted). */
  append(lines: readonly string[]): Promise<boolean>;
  hasPending(): boolean;
  /** Up to `max` of the oldest lines; `commit()` marks them done. Undefined when empty. */
  readOldest(max: number): Promise<{ lines: string[]; commit(): Promise<void> } | undefined>;
  bytes(): number;
  close(): Promise<void>;
}

interface Segment {
  path: string;
  bytes: number;
}

interface OpenSegment extends Segment {
  handle: FileHandle;
}

interface ReadCursor {
  segment: Segment;
  lines: string[];
  next: number;
}

const SEGMENT_PATTERN = /^seg-\d{13}-[0-9a-z]+-\d{8}\.ndjson$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the directory and takes the lock synchronously: it runs once in init(), before any event. */
export function openOfflineBuffer(config: ResolvedOfflineBuffer, report: (error: HeliosSdkError) => void): OfflineBuffer | undefined {
  const { directory } = config;
  const processToken = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  const lockPath = join(directory, 'LOCK');
  const segments: Segment[] = [];
  try {
    mkdirSync(directory, { recursive: true });
    if (!takeLock(lockPath, processToken)) {
      report(new HeliosSdkError('HLS_ERR_SDK_OFFLINE_BUFFER_LOCKED', `offline buffer directory ${directory} is locked by another live process (see ${lockPath}); the offline buffer is off`));
      return undefined;
    }
    for (const name of readdirSync(directory).sort()) {
      if (SEGMENT_PATTERN.test(name)) segments.push({ path: join(directory, name), bytes: statSync(join(directory, name)).size });
    }
  } catch (error) {
    report(new HeliosSdkError('HLS_ERR_SDK_OFFLINE_BUFFER', `offline buffer directory ${directory} is unusable: ${(error as Error).message}`, { cause: error }));
    return undefined;
  }

  let totalBytes = segments.reduce((sum, s) => sum + s.bytes, 0);
  let writing: OpenSegment | undefined;
  let cursor: ReadCursor | undefined;
  let sequence = 0;
  let closed = false;
  /**
   * The time part of new segment names: never below a name already on disk (+1 ms) and never going back,
   * so names sort in write order even when a restart, or a clock step back, falls in the same millisecond
   * as the last segment (the process token that follows would otherwise order them at random).
   */
  let nameMs = segments.reduce((max, s) => Math.max(max, Number(/seg-(\d{13})-/.exec(s.path)?.[1] ?? 0) + 1), 0);

  async function closeWriting(): Promise<void> {
    if (writing === undefined) return;
    const handle = writing.handle;
    writing = undefined;
    await handle.close();
  }

  async function append(lines: readonly string[]): Promise<boolean> {
    if (closed || lines.length === 0) return lines.length === 0;
    const data = Buffer.from(`${lines.join('\n')}\n`);
    if (totalBytes + data.length > config.maxBytes) {
      report(new HeliosSdkError('HLS_ERR_SDK_OFFLINE_BUFFER_FULL', `offline buffer ${directory} reached maxBytes (${config.maxBytes}); dropping ${lines.length} events`));
      return false;
    }
    try {
      if (writing !== undefined && writing.bytes + data.length > config.segmentBytes && writing.bytes > 0) await closeWriting();
      if (writing === undefined) {
        sequence++;
        nameMs = Math.max(nameMs, Date.now());
        const name = `seg-${String(nameMs).padStart(13, '0')}-${processToken}-${String(sequence).padStart(8, '0')}.ndjson`;
        const path = join(directory, name);
        const handle = await open(path, 'a');
        writing = { path, bytes: 0, handle };
        segments.push(writing);
      }
      await writing.handle.write(data);
      if (config.fsync === 'always') await writing.handle.sync();
      writing.bytes += data.length;
      totalBytes += data.length;
      return true;
    } catch (error) {
      report(new HeliosSdkError('HLS_ERR_SDK_OFFLINE_BUFFER', `offline buffer write failed: ${(error as Error).message}`, { cause: error }));
      return false;
    }
  }

  async function readOldest(max: number): Promise<{ lines: string[]; commit(): Promise<void> } | undefined> {
    while (cursor === undefined || cursor.next >= cursor.lines.length) {
      if (cursor !== undefined) await dropSegment(cursor.segment);
      cursor = undefined;
      const segment = segments[0];
      if (segment === undefined) return undefined;
      // Never read a segment that is still being appended to: close it, later spills start a new one.
      if (writing === segment) await closeWriting();
      let text: string;
      try {
        text = await readFile(segment.path, 'utf8');
      } catch (error) {
        report(new HeliosSdkError('HLS_ERR_SDK_OFFLINE_BUFFER', `offline buffer segment ${segment.path} unreadable, skipped: ${(error as Error).message}`, { cause: error }));
        await dropSegment(segment);
        continue;
      }
      cursor = { segment, lines: text.split('\n').filter(isCompleteJson), next: await readAcked(segment.path) };
    }
    const current = cursor;
    const start = current.next;
    const lines = current.lines.slice(start, start + max);
    return {
      lines,
      async commit() {
        if (current.next === start) current.next = start + lines.length;
        if (current.next >= current.lines.length && cursor === current) {
          cursor = undefined;
          await dropSegment(current.segment);
        } else {
          await writeAcked(current.segment.path, current.next);
        }
      },
    };
  }

  async function dropSegment(segment: Segment): Promise<void> {
    const index = segments.indexOf(segment);
    if (index < 0) return;
    segments.splice(index, 1);
    totalBytes -= segment.bytes;
    try {
      await unlink(segment.path);
      await unlink(ackedPath(segment.path)).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        report(new HeliosSdkError('HLS_ERR_SDK_OFFLINE_BUFFER', `could not delete delivered segment ${segment.path}: ${(error as Error).message}`, { cause: error }));
      }
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await closeWriting();
    try {
      unlinkSync(lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  }

  return {
    append,
    hasPending: () => segments.length > 0,
    readOldest,
    bytes: () => totalBytes,
    close,
  };
}

/**
 * How many lines of a partly delivered segment were answered, kept next to it in `<segment>.acked`, so a
 * restart resumes after them instead of sending them again. Written to a temporary name and renamed, so
 * a crash leaves the old count or the new one, never a torn one; a lost count only means a resend.
 */
function ackedPath(segmentPath: string): string {
  return `${segmentPath}.acked`;
}

async function readAcked(segmentPath: string): Promise<number> {
  try {
    const count = Number((await readFile(ackedPath(segmentPath), 'utf8')).trim());
    return Number.isInteger(count) && count > 0 ? count : 0;
  } catch {
    return 0;
  }
}

async function writeAcked(segmentPath: string, count: number): Promise<void> {
  const temporary = `${ackedPath(segmentPath)}.tmp`;
  try {
    await writeFile(temporary, String(count));
    await rename(temporary, ackedPath(segmentPath));
  } catch {
    // Without the count a restart resends this segment's answered lines: duplicates by id, which the
    // gateway stores once. Not worth failing delivery over.
  }
}

function isCompleteJson(line: string): boolean {
  if (line === '') return false;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** Exclusive create; a lock left by a dead process is taken over. */
function takeLock(lockPath: string, token: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, `${process.pid} ${token}\n`);
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [pidText] = readFileSync(lockPath, 'utf8').split(' ');
      const pid = Number(pidText);
      // Our own pid means another SDK instance in this process holds it (a dead process's pid reused by
      // us is possible but rare; the cost is a disabled buffer and a diagnostic, never a corrupted one).
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return false;
      unlinkSync(lockPath);
    }
  }
  return false;
}
