// A local stand-in for PagerDuty's Events API v2 (POST /v2/enqueue) for the repo's plugin conformance test:
// it checks an event the way PagerDuty documents (routing_key of 32 characters, event_action, dedup_key,
// a trigger's payload.summary/source/severity) and answers 202 or 400 with PagerDuty's response shape.
import { createServer } from 'node:http';

export function validatePagerDutyEvent(event) {
  const errors = [];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return ['Event object is invalid'];
  if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32) errors.push("'routing_key' is invalid");
  if (!['trigger', 'acknowledge', 'resolve'].includes(event.event_action)) errors.push("'event_action' is invalid");
  if (event.dedup_key !== undefined && (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255)) errors.push("'dedup_key' is invalid");
  if (event.event_action !== 'trigger' && typeof event.dedup_key !== 'string') errors.push("'dedup_key' is missing");
  if (event.event_action === 'trigger') {
    const p = event.payload;
    if (typeof p !== 'object' || p === null) errors.push("'payload' is missing");
    else {
      if (typeof p.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) errors.push("'payload.summary' is invalid");
      if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is missing");
      if (!['critical', 'error', 'warning', 'info'].includes(p.severity)) errors.push("'payload.severity' is invalid");
      if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) errors.push("'payload.timestamp' is invalid");
      if (p.custom_details !== undefined && (typeof p.custom_details !== 'object' || p.custom_details === null)) errors.push("'payload.custom_details' is invalid");
    }
    if (event.links !== undefined && (!Array.isArray(event.links) || event.links.some((l) => typeof l?.href !== 'string'))) errors.push("'links' is invalid");
  }
  return errors;
}

export async function start(options = {}) {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const reply = (status, body, headers = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== '/v2/enqueue') return reply(404, { status: 'not found' });
      let event;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Malformed JSON'] });
      }
      const scripted = options.script?.[received.length];
      received.push(event);
      if (scripted !== undefined) return reply(scripted.status, scripted.body ?? { status: 'throttled', message: 'Requests for this service are arriving too quickly' }, scripted.headers);
      const errors = validatePagerDutyEvent(event);
      if (errors.length > 0) return reply(400, { status: 'invalid event', message: 'Event object is invalid', errors });
      return reply(202, { status: 'success', message: 'Event processed', dedup_key: event.dedup_key ?? 'generated' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    received,
    options: { eventsUrl: `http://127.0.0.1:${port}/v2/enqueue`, routingKey: 'R0123456789abcdefghijklmnopqrstu'.slice(0, 32) },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
