import type { Command, CommandModule } from './command.js';

/**
 * Every `helios` command: its name and one-line summary here, the rest (options, run) in its own module,
 * imported only when that command runs or shows its help. `helios --version` and `--help` load none of
 * them (some bring PGlite, the evaluation harness or the Kafka client). Add a file in this folder and list it here.
 */
export interface CommandEntry {
  name: string;
  /** One line for `helios --help`. */
  summary: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'up', summary: 'Run Helios: gateway + storage + detection + reporting in one process (--role gateway: the gateway alone, on Kafka)', load: async () => (await import('./up.js')).up },
  { name: 'worker', summary: 'Run consumer roles only (no gateway) on the Kafka bus: --role storage|detect|report|all', load: async () => (await import('./worker.js')).worker },
  { name: 'validate', summary: 'Check the whole configuration, plugin options included, without starting anything (exit 1 listing every problem)', load: async () => (await import('./validate.js')).validate },
  { name: 'demo', summary: 'Start Helios on embedded defaults, send normal traffic and an incident, print the report', load: async () => (await import('./demo.js')).demo },
  { name: 'migrate', summary: 'Apply pending database migrations and exit (safe to run concurrently)', load: async () => (await import('./migrate.js')).migrate },
  { name: 'config', summary: 'Print the effective configuration, secrets redacted (--show-secrets: as they are; --reference: every key with its default, as Markdown)', load: async () => (await import('./config.js')).config },
  { name: 'eval', summary: 'Score detectors on a labelled dataset (the synthetic incident suite by default): precision, recall, F1, ROC AUC, delay', load: async () => (await import('./eval.js')).evaluate },
  { name: 'train', summary: 'Train the configured detectors that can learn ahead of time from the stored history (their train hook)', load: async () => (await import('./train.js')).train },
  { name: 'plugin', summary: 'Create a plugin package: helios plugin new <name> --kind detector|reporter [--dir <folder>]', load: async () => (await import('./plugin.js')).plugin },
  { name: 'plugins', summary: 'List configured plugins: source, version, API range, and health from a running Helios', load: async () => (await import('./plugins.js')).plugins },
  { name: 'loadgen', summary: 'Send load to a gateway (Helios JSON or OTLP) and print events/s, latency and status counts', load: async () => (await import('./loadgen.js')).loadgen },
  { name: 'simulate', summary: 'Send live traffic for N services to a running Helios (current timestamps), with optional history and an incident', load: async () => (await import('./simulate.js')).simulate },
  { name: 'events', summary: 'Search stored events (newest first) through the API: --service --level --trace --q --since --limit', load: async () => (await import('./events.js')).events },
  { name: 'tail', summary: 'Follow new events live through the API (server-sent events), with the same filters as `helios events`', load: async () => (await import('./events.js')).tail },
];

/** The command an entry names, loaded. */
export async function loadCommand(entry: CommandEntry): Promise<Command> {
  return { ...(await entry.load()), name: entry.name, summary: entry.summary };
}

export type { Command, CommandContext, CommandModule } from './command.js';
