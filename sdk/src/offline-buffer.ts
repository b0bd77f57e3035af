import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
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
 * - Lines carry the event's UUID v7 `id`, assigned once at `event()`; a replay after a crash between the
 *   2xx and the delete resends the same ids, which the gateway treats as duplicates. That is the only way
 *   a line is sent twice.
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
        const name = `seg-${String(Date.now()).padStart(13, '0')}-${processToken}-${String(sequence).padStart(8, '0')}.ndjson`;
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
      cursor = { segment, lines: text.split('\n').filter(isCompleteJson), next: 0 };
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
