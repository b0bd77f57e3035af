import { HeliosError } from '@helios/core';
import { liveCounter } from '../live-counter.js';
import { runSimulation, type SimulatedIncident } from '../simulate.js';
import { INCIDENT_KINDS, serviceProfiles, type IncidentKind } from '../traffic.js';
import { stringOption, type CommandModule, type OptionValues } from './command.js';

/** A numeric flag, or HLS_ERR_USAGE naming the flag, the range and the bad value. */
function numberFlag(values: OptionValues, name: string, fallback: number, min: number, max: number, integer = true): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new HeliosError('HLS_ERR_USAGE', `simulate: --${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** The incident switch: --incident <kind> turns it on; the other --incident-* flags need it. */
export function incidentFlags(values: OptionValues, services: readonly string[]): SimulatedIncident | undefined {
  const kind = stringOption(values, 'incident');
  if (kind === undefined) {
    const stray = ['incident-service', 'incident-start', 'incident-duration'].find((f) => values[f] !== undefined);
    if (stray !== undefined) throw new HeliosError('HLS_ERR_USAGE', `simulate: --${stray} needs --incident <${INCIDENT_KINDS.join('|')}>`);
    return undefined;
  }
  if (!(INCIDENT_KINDS as readonly string[]).includes(kind)) throw new HeliosError('HLS_ERR_USAGE', `simulate: --incident must be one of ${INCIDENT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const service = stringOption(values, 'incident-service') ?? services[0]!;
  if (!services.includes(service)) throw new HeliosError('HLS_ERR_USAGE', `simulate: --incident-service ${JSON.stringify(service)} is not one of the simulated services (${services.join(', ')})`);
  return {
    kind: kind as IncidentKind,
    service,
    startMinute: numberFlag(values, 'incident-start', 2, -10_080, 10_080),
    minutes: numberFlag(values, 'incident-duration', 10, 1, 10_080),
  };
}

export const simulate: CommandModule = {
  usage: [
    'Example: helios simulate --services 3 --history 180 --incident error-burst --incident-service checkout --incident-start 1 --incident-duration 10',
    'History is sent at once with past timestamps so detectors have training windows; live traffic then runs at the services\' real rates.',
  ].join('\n'),
  options: {
    url: { type: 'string', value: '<url>', description: 'Helios gateway; default http://127.0.0.1:<gateway.port>' },
    'api-key': { type: 'string', value: '<key>', description: 'API key to send (when the gateway requires one)' },
    services: { type: 'string', value: '<n>', description: 'Services sending traffic, 1 to 100 (checkout, catalog, accounts, service-4, ...); default 3' },
    history: { type: 'string', value: '<minutes>', description: 'Minutes of past traffic sent at once first, 0 to 10080; default 180 (the detectors train on it)' },
    duration: { type: 'string', value: '<s>', description: 'Seconds of live traffic, 0 for until Ctrl-C; default 0' },
    incident: { type: 'string', value: `<${INCIDENT_KINDS.join('|')}>`, description: 'Inject an incident of this kind' },
    'incident-service': { type: 'string', value: '<name>', description: 'Service the incident hits; default the first' },
    'incident-start': { type: 'string', value: '<minutes>', description: 'Start, minutes from now (negative: inside the history); default 2' },
    'incident-duration': { type: 'string', value: '<minutes>', description: 'Length in minutes; default 10' },
    seed: { type: 'string', value: '<n>', description: 'Seed of the traffic generator; default 7' },
  },
  async run({ loaded, values, json, stdout }) {
    const services = numberFlag(values, 'services', 3, 1, 100);
    const historyMinutes = numberFlag(values, 'history', 180, 0, 10_080);
    const liveMs = numberFlag(values, 'duration', 0, 0, 604_800, false) * 1000;
    const seed = numberFlag(values, 'seed', 7, 0, 2 ** 31);
    const incident = incidentFlags(values, serviceProfiles(services).map((p) => p.service));
    const url = stringOption(values, 'url') ?? `http://127.0.0.1:${loaded.config.gateway.port}`;
    const apiKey = stringOption(values, 'api-key');
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const live = liveCounter(process.stderr);
    try {
      const result = await runSimulation({
        url, services, historyMinutes, liveMs, seed, signal: abort.signal,
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(incident === undefined ? {} : { incident }),
        onProgress: (p) => live.update(`${p.phase}  ${p.eventsSent.toLocaleString('en-US')} events sent  event time ${new Date(p.reached).toISOString().slice(11, 19)} UTC${p.incidentActive ? '  INCIDENT ACTIVE' : ''}`),
      });
      live.done();
      if (json) {
        stdout(`${JSON.stringify(result)}\n`);
        return;
      }
      stdout([
        `Sent ${result.historyEvents.toLocaleString('en-US')} history and ${result.liveEvents.toLocaleString('en-US')} live events for ${result.services.join(', ')} to ${url}`,
        ...(result.incident === undefined ? [] : [`Incident ${result.incident.kind} in ${result.incident.service} from ${new Date(result.incident.from).toISOString()} to ${new Date(result.incident.to).toISOString()}`]),
      ].join('\n') + '\n');
    } finally {
      live.done();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
