import { HeliosError, createRedactor, type HeliosConfig, type Logger, type RedactionOptions, type Registry } from '@helios/core';
import type { StoreReader } from '@helios/store';
import type { GatewayRequest, GatewayResponse, RequestHeaders } from '../http/transport.js';
import { matchPath, type ApiRoute } from './api-route.js';
import { createEventsApi, type ReadApiContext } from './events-api.js';
import { openApiDocument, openApiRoute } from './openapi.js';
import { createReportsApi } from './reports-api.js';
import { createServicesApi } from './services-api.js';

/** The read API: every ApiRoute of this folder, served in order, plus the OpenAPI document written from them. */
export interface ReadApi {
  /** The routes served, in matching order (the OpenAPI document lists exactly these). */
  readonly routes: readonly ApiRoute[];
  /** [route label, response] for a path of the read API, or undefined when none matches. */
  serve(request: GatewayRequest): Promise<[string, GatewayResponse] | undefined>;
  /** End live tails with a final event (shutdown) instead of cutting them. */
  close(): void;
}

/**
 * With auth on, the key's tenant scopes every read and a `tenant` parameter naming another is refused;
 * with auth off there is no tenant to scope by, so every tenant's data is served unless one is asked
 * for (the README's Security section says so).
 */
export function createReadApi(options: {
  store: StoreReader | undefined;
  config: HeliosConfig['gateway']['readApi'];
  authEnabled: boolean;
  authenticate(headers: RequestHeaders): string;
  now: () => number;
  logger: Logger;
  metrics: Registry;
  /**
   * Config `redaction`. Reports are redacted before they are stored; the reports API passes them through the
   * same stage again on the way out, so a report stored before redaction existed (or under other rules)
   * still leaves without secrets. Per response, not per event.
   */
  redaction?: RedactionOptions;
}): ReadApi {
  const { authEnabled, authenticate } = options;
  const context: ReadApiContext = {
    store: options.store, now: options.now, logger: options.logger, metrics: options.metrics, config: options.config,
    tenantOf(request, requested) {
      if (!authEnabled) return requested;
      const tenant = authenticate(request.headers);
      if (requested !== undefined && requested !== tenant) throw new HeliosError('HLS_ERR_QUERY_INVALID', 'tenant: this API key reads its own tenant only', { details: ['tenant'] });
      return tenant;
    },
  };
  const eventsApi = createEventsApi(context);
  const routes: ApiRoute[] = [...createReportsApi(context, createRedactor(options.redaction)).routes, ...eventsApi.routes, ...createServicesApi(context).routes];
  let openApiText: string | undefined;
  routes.push(openApiRoute(() => (openApiText ??= JSON.stringify(openApiDocument(routes)))));

  return {
    routes,
    async serve(request) {
      for (const apiRoute of routes) {
        const params = matchPath(apiRoute.path, request.path);
        if (params === undefined) continue;
        if (request.method !== 'GET' && request.method !== 'HEAD') throw new HeliosError('HLS_ERR_METHOD_NOT_ALLOWED', `use GET for ${apiRoute.path}`);
        if (apiRoute.public !== true && authEnabled) authenticate(request.headers);
        return [apiRoute.name, await apiRoute.handle(request, params)];
      }
      return undefined;
    },
    close: () => eventsApi.close(),
  };
}
