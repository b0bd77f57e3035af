import { afterEach, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOfflineBuffer, type OfflineBuffer } from '../src/offline-buffer.js';
import type { HeliosSdkError } from '../src/errors.js';

/**
 * The disk buffer against a reference model: a FIFO of lines. Any sequence of appends, reads that are
 * committed or abandoned, clean restarts and crashes (no close, lock left behind by a dead owner) must
 * leave exactly the model's lines, in order: nothing lost, nothing duplicated, nothing reordered.
 */

type Command =
  | { kind: 'append'; count: number }
  | { kind: 'read'; max: number; commit: boolean }
  | { kind: 'restart' }
  | { kind: 'crash' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 7 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), max: fc.integer({ min: 1, max: 9 }), commit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const) }) },
);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(directory: string): OfflineBuffer {
  const problems: HeliosSdkError[] = [];
  // Tiny segments, so appends and reads cross segment boundaries all the time.
  const buffer = openOfflineBuffer({ directory, maxBytes: 10 * 1024 * 1024, segmentBytes: 64, fsync: 'never' }, (e) => problems.push(e));
  if (buffer === undefined) throw new Error(`buffer did not open: ${problems.map((p) => p.message).join('; ')}`);
  return buffer;
}

it('matches a FIFO model through appends, committed and abandoned reads, restarts and crashes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
      const directory = mkdtempSync(join(tmpdir(), 'helios-sdk-prop-'));
      dirs.push(directory);
      const model: string[] = [];
      let next = 0;
      let buffer = open(directory);
      for (const c of commands) {
        if (c.kind === 'append') {
          const lines = Array.from({ length: c.count }, () => JSON.stringify({ n: next++ }));
          expect(await buffer.append(lines)).toBe(true);
          model.push(...lines);
        } else if (c.kind === 'read') {
          const chunk = await buffer.readOldest(c.max);
          if (model.length === 0) {
            expect(chunk === undefined || chunk.lines.length === 0).toBe(true);
            continue;
          }
          expect(chunk).toBeDefined();
          // A read stops at a segment boundary, so it may return fewer than max, never zero, and always the oldest.
          expect(chunk!.lines.length).toBeGreaterThan(0);
          expect(chunk!.lines).toEqual(model.slice(0, chunk!.lines.length));
          if (c.commit) {
            await chunk!.commit();
            model.splice(0, chunk!.lines.length);
          }
        } else if (c.kind === 'restart') {
          await buffer.close();
          buffer = open(directory);
        } else {
          // A crash: no close, the lock file stays; the next process finds its owner dead and takes it over.
          // (Here the "dead" owner is this very process, so the test removes the lock as a takeover would.)
          unlinkSync(join(directory, 'LOCK'));
          buffer = open(directory);
        }
        expect(buffer.hasPending()).toBe(model.length > 0);
      }
      // Drain: exactly the model, in order.
      const drained: string[] = [];
      for (let chunk = await buffer.readOldest(5); chunk !== undefined; chunk = await buffer.readOldest(5)) {
        drained.push(...chunk.lines);
        await chunk.commit();
      }
      expect(drained).toEqual(model);
      expect(buffer.hasPending()).toBe(false);
      await buffer.close();
    }),
    { numRuns: 60 },
  );
});
