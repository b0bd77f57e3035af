/**
 * A live progress line for long-running commands, on stderr so stdout stays clean for `--json`:
 * rewritten in place on a terminal, one line every 5 s otherwise (CI logs, pipes).
 */
export interface LiveCounter {
  update(text: string): void;
  /** End the live line (idempotent). */
  done(): void;
}

export function liveCounter(stream: NodeJS.WriteStream, options: { everyMs?: number } = {}): LiveCounter {
  const tty = stream.isTTY === true;
  const everyMs = options.everyMs ?? 5000;
  let lastWrite = 0;
  let written = false;
  let finished = false;
  return {
    update(text) {
      if (finished) return;
      if (tty) {
        stream.write(`\r\u001b[2K${text}`);
        written = true;
        return;
      }
      const now = Date.now();
      if (now - lastWrite < everyMs) return;
      lastWrite = now;
      stream.write(`${text}\n`);
    },
    done() {
      if (finished) return;
      finished = true;
      if (tty && written) stream.write('\n');
    },
  };
}
