import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMON_OPTIONS, parseCommandLine, parsePortFlag } from './command.js';
import { COMMANDS as ENTRIES, loadCommand } from './index.js';

const COMMANDS = await Promise.all(ENTRIES.map(loadCommand));

const refusal = (f: () => unknown): { code?: string; message: string } => {
  try {
    f();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a refusal');
};

// Flag names that no command declares: lower-case words, as a typo would be.
const unknownFlag = fc.stringMatching(/^[a-z][a-z-]{1,12}$/).filter((name) => COMMANDS.every((c) => !(name in (c.options ?? {}))) && !(name in COMMON_OPTIONS));

describe('command-line parsing (one parseArgs, strict, per command)', () => {
  it('refuses any unknown flag with HLS_ERR_USAGE, naming it and every flag the command takes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMANDS), unknownFlag, fc.boolean(), (command, flag, inline) => {
        const err = refusal(() => parseCommandLine(command, inline ? [`--${flag}=1`] : [`--${flag}`, '1']));
        expect(err.code).toBe('HLS_ERR_USAGE');
        expect(err.message).toContain(`helios ${command.name}: unknown option --${flag}`);
        for (const name of [...Object.keys(command.options ?? {}), ...Object.keys(COMMON_OPTIONS)]) expect(err.message).toContain(`--${name}`);
      }),
    );
  });

  it('accepts every declared flag of every command, with the common ones', () => {
    for (const command of COMMANDS) {
      const args = Object.entries({ ...command.options, ...COMMON_OPTIONS }).filter(([name]) => name !== 'help' && name !== 'version').flatMap(([name, s]) => (s.type === 'string' ? [`--${name}`, 'x'] : [`--${name}`]));
      const { values } = parseCommandLine(command, args);
      for (const [name, s] of Object.entries(command.options ?? {})) expect(values[name]).toEqual(s.type === 'boolean' ? true : s.multiple === true ? ['x'] : 'x');
    }
  });

  it('refuses a positional argument for a command that takes none, and a flag missing its value', () => {
    const up = COMMANDS.find((c) => c.name === 'up')!;
    expect(refusal(() => parseCommandLine(up, ['extra']))).toMatchObject({ code: 'HLS_ERR_USAGE', message: expect.stringContaining('unexpected argument "extra"') });
    expect(refusal(() => parseCommandLine(up, ['--role']))).toMatchObject({ code: 'HLS_ERR_USAGE', message: expect.stringContaining('--role') });
  });

  it('--port takes integers 0..65535 and names any other value with HLS_ERR_USAGE', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), (port) => {
      expect(parsePortFlag(String(port))).toBe(port);
    }));
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 65536 }), fc.integer({ max: -1 }), fc.double().filter((d) => !Number.isInteger(d)), fc.string().filter((s) => !/^\s*\d+\s*$/.test(s))), (bad) => {
        const err = refusal(() => parsePortFlag(String(bad)));
        expect(err.code).toBe('HLS_ERR_USAGE');
        expect(err.message).toContain(JSON.stringify(String(bad)));
      }),
    );
  });
});
