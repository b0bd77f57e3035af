// A local stand-in for Alertmanager's API v2 (POST /api/v2/alerts, POST /api/v2/silences, DELETE
// /api/v2/silence/{silenceID}) for the repo's plugin conformance test and the reporter's wire-format tests.
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

/** A postableSilence as Alertmanager checks it (api/v2/openapi.yaml and silence validation). */
export function validatePostableSilence(body, now = Date.now()) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['body must be a postableSilence object'];
  const errors = [];
  if (!Array.isArray(body.matchers) || body.matchers.length === 0) errors.push('at least one matcher required');
  else {
    body.matchers.forEach((m, i) => {
      if (typeof m?.name !== 'string' || !NAME.test(m.name)) errors.push(`matchers[${i}].name invalid`);
      if (typeof m?.value !== 'string') errors.push(`matchers[${i}].value in body is required`);
      if (typeof m?.isRegex !== 'boolean') errors.push(`matchers[${i}].isRegex in body is required`);
      if (m?.isEqual !== undefined && typeof m.isEqual !== 'boolean') errors.push(`matchers[${i}].isEqual must be a boolean`);
    });
  }
  for (const key of ['startsAt', 'endsAt']) if (typeof body[key] !== 'string' || !DATE_TIME.test(body[key])) errors.push(`${key} in body is required (date-time)`);
  if (errors.length === 0) {
    if (Date.parse(body.endsAt) < Date.parse(body.startsAt)) errors.push('end time must not be before start time');
    if (Date.parse(body.endsAt) < now) errors.push('end time can\'t be in the past');
  }
  for (const key of ['createdBy', 'comment']) if (typeof body[key] !== 'string' || body[key] === '') errors.push(`${key} in body is required`);
  return errors;
}

export async function start(options = {}) {
  const received = [];
  /** Silence requests (POST /api/v2/silences, DELETE /api/v2/silence/{id}) in order, and the silences by id. */
  const requests = [];
  const silences = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const reply = (status, body, headers = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      const silenceId = /^\/api\/v2\/silence\/([^/]+)$/.exec(req.url ?? '')?.[1];
      if (req.method === 'DELETE' && silenceId !== undefined) {
        requests.push({ method: 'DELETE', path: req.url, headers: req.headers });
        const silence = silences.get(decodeURIComponent(silenceId));
        if (silence === undefined) return reply(404, `silence ${silenceId} not found`);
        if (silence.status.state === 'expired') return reply(500, `silence ${silenceId} already expired`);
        silence.status.state = 'expired';
        silence.endsAt = new Date().toISOString();
        return reply(200, '');
      }
      if (req.method === 'POST' && req.url === '/api/v2/silences') {
        let body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch (err) {
          return reply(400, `parsing silence: ${err.message}`);
        }
        requests.push({ method: 'POST', path: req.url, body, headers: req.headers });
        const errors = validatePostableSilence(body);
        if (errors.length > 0) return reply(400, errors.join('; '));
        const id = `silence-${silences.size + 1}`;
        silences.set(id, { ...body, id, status: { state: Date.parse(body.startsAt) <= Date.now() ? 'active' : 'pending' } });
        return reply(200, { silenceID: id });
      }
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
    requests,
    silences,
    options: { url: `http://127.0.0.1:${port}` },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
