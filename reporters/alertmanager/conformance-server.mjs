// A local stand-in for Alertmanager's API v2 (POST /api/v2/alerts) for the repo's plugin conformance test.
// It validates the body as Alertmanager does (a JSON array of postableAlert: labels required and non-empty,
// label and annotation names matching [a-zA-Z_][a-zA-Z0-9_]*, string values, date-time startsAt/endsAt with
// endsAt after startsAt, generatorURL a URI) and answers 200, or 400 with the reason as a JSON string.
import { createServer } from 'node:http';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function labelSetErrors(set, what) {
  if (typeof set !== 'object' || set === null || Array.isArray(set)) return [`${what} must be an object`];
  return Object.entries(set).flatMap(([k, v]) => [
    ...(NAME.test(k) ? [] : [`invalid label name "${k}"`]),
    ...(typeof v === 'string' ? [] : [`${what}.${k} must be a string`]),
  ]);
}

export function validatePostableAlerts(body) {
  if (!Array.isArray(body)) return ['body must be an array of postableAlert'];
  return body.flatMap((alert, i) => {
    if (typeof alert !== 'object' || alert === null) return [`[${i}] must be an object`];
    const errors = [];
    if (alert.labels === undefined) errors.push(`[${i}].labels in body is required`);
    else {
      errors.push(...labelSetErrors(alert.labels, `[${i}].labels`));
      if (Object.keys(alert.labels ?? {}).length === 0) errors.push(`[${i}]: at least one label pair required`);
    }
    if (alert.annotations !== undefined) errors.push(...labelSetErrors(alert.annotations, `[${i}].annotations`));
    for (const key of ['startsAt', 'endsAt']) if (alert[key] !== undefined && (typeof alert[key] !== 'string' || !DATE_TIME.test(alert[key]))) errors.push(`[${i}].${key} in body must be of type date-time`);
    if (alert.startsAt !== undefined && alert.endsAt !== undefined && Date.parse(alert.endsAt) < Date.parse(alert.startsAt)) errors.push(`[${i}]: start time must be before end time`);
    if (alert.generatorURL !== undefined) {
      try {
        new URL(alert.generatorURL);
      } catch {
        errors.push(`[${i}].generatorURL in body must be of type uri`);
      }
    }
    return errors;
  });
}

export async function start(options = {}) {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const reply = (status, body, headers = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== '/api/v2/alerts') return reply(404, 'not found');
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return reply(415, 'unsupported media type');
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return reply(400, `parsing alerts: ${err.message}`);
      }
      const scripted = options.script?.[received.length];
      received.push({ body, headers: req.headers });
      if (scripted !== undefined) return reply(scripted.status, scripted.body ?? 'unavailable', scripted.headers);
      const errors = validatePostableAlerts(body);
      return errors.length > 0 ? reply(400, errors.join('; ')) : reply(200, '');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    received,
    options: { url: `http://127.0.0.1:${port}` },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
