import { HeliosError } from '@helios/core';
import type { GatewayRequest, GatewayResponse } from '../http/transport.js';
import type { BodySpec } from './body-fields.js';
import type { ParamSpecs } from './query-params.js';

/** What the OpenAPI document says about one response of a route. */
export interface ResponseDoc {
  description: string;
  /** The content type and its JSON Schema (omitted: no body described). */
  content?: Record<string, { schema: Record<string, unknown> }>;
}

/**
 * A route of the API (reads, and the incident and silence writes), declared with what the OpenAPI
 * document needs: the gateway serves these, and openapi.ts writes their operations from the same objects.
 */
export interface ApiRoute {
  /** Default GET (which also answers HEAD). */
  method?: 'GET' | 'POST' | 'DELETE';
  /** OpenAPI path template: `/api/v1/traces/{traceId}`. */
  path: string;
  /** Label of helios_http_requests_total. */
  name: string;
  summary: string;
  description?: string;
  tag: string;
  query: ParamSpecs;
  /** The JSON body a write route takes (parsed by the handler with parseJsonBody). */
  body?: BodySpec;
  /** Path parameters and their descriptions, in template order. */
  pathParams?: Readonly<Record<string, string>>;
  /** Request headers the route reads besides credentials (e.g. Last-Event-ID). */
  headers?: Readonly<Record<string, string>>;
  responses: Readonly<Record<string, ResponseDoc>>;
  /** Served without an API key even with auth on (the OpenAPI document). */
  public?: boolean;
  handle(request: GatewayRequest, pathParams: Record<string, string>): Promise<GatewayResponse>;
}

/** The template's path parameters taken from `path`, or undefined when it does not match. A parameter is one non-empty segment. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (got[i] === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(got[i]!);
      } catch {
        throw new HeliosError('HLS_ERR_QUERY_INVALID', `${w.slice(1, -1)}: not a valid percent-encoded path segment`, { details: [w.slice(1, -1)] });
      }
    } else if (w !== got[i]) {
      return undefined;
    }
  }
  return params;
}
