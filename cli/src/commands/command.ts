import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HeliosError, type LoadedConfig } from '@helios/core';

/** What every command gets: the layered config and its own arguments (after the command name). */
export interface CommandContext {
  loaded: LoadedConfig;
  /** Arguments after the command name, minus the common flags. */
  args: string[];
  /** True when --json was given: print machine-readable output on stdout. */
  json: boolean;
  /** Whether --port was given explicitly (flag or HELIOS_PORT). */
  portExplicit: boolean;
  stdout: (text: string) => void;
}

export interface Command {
  name: string;
  /** One line for `helios --help`. */
  summary: string;
  /** Extra usage text for `helios <name> --help`. */
  usage?: string;
  /** Resolves when the command is done; `up` resolves once started and keeps the process alive. */
  run(ctx: CommandContext): Promise<void>;
}

/** `parseArgs` for a command's own arguments: a bad flag becomes HLS_ERR_CONFIG_INVALID naming the command. */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios ${command}: ${(err as Error).message}`);
  }
}
