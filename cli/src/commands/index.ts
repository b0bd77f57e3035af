import type { Command } from './command.js';
import { config } from './config.js';
import { demo } from './demo.js';
import { evaluate } from './eval.js';
import { events, tail } from './events.js';
import { loadgen } from './loadgen.js';
import { migrate } from './migrate.js';
import { plugin } from './plugin.js';
import { plugins } from './plugins.js';
import { train } from './train.js';
import { up } from './up.js';
import { simulate } from './simulate.js';
import { validate } from './validate.js';
import { worker } from './worker.js';

/** Every `helios` command; add a file in this folder and list it here. */
export const COMMANDS: readonly Command[] = [up, worker, validate, demo, migrate, config, evaluate, train, plugin, plugins, loadgen, simulate, events, tail];

export type { Command, CommandContext } from './command.js';
