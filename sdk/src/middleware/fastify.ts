import type { FastifyPluginCallback } from 'fastify';
import type { HeliosClient } from '../client.js';
import { recordRequest, UNMATCHED_ROUTE } from './request-event.js';

export { UNMATCHED_ROUTE } from './request-event.js';

export interface HeliosFastifyOptions {
  client: HeliosClient;
}

/**
 * Fastify plugin: `app.register(heliosFastify, { client: helios })`. Records endpoint as the route
 * template (`request.routeOptions.url`), status, latency (`reply.elapsedTime`) and the code of an error a
 * handler threw. Not encapsulated (like fastify-plugin), so it sees every route of the instance.
 */
export const heliosFastify: FastifyPluginCallback<HeliosFastifyOptions> = function heliosFastifyPlugin(fastify, options, done) {
  const client = options.client;
  if (client === undefined || typeof client.event !== 'function') {
    done(new TypeError('heliosFastify: options.client must be the value init() returned'));
    return;
  }
  if (!client.enabled) {
    done();
    return;
  }
  // Declared up front so every request object keeps one shape.
  fastify.decorateRequest('heliosError', undefined);
  fastify.addHook('onError', function heliosFastifyOnError(request, _reply, error, hookDone) {
    (request as unknown as { heliosError: unknown }).heliosError = error;
    hookDone();
  });
  fastify.addHook('onResponse', function heliosFastifyOnResponse(request, reply, hookDone) {
    recordRequest(client, request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, 0, reply.elapsedTime, (request as unknown as { heliosError: unknown }).heliosError);
    hookDone();
  });
  done();
};

// What fastify-plugin sets: register on the parent instance instead of a new encapsulated context.
Object.assign(heliosFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@helios/sdk',
});
