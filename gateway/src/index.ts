export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { loadUws } from './http/uws-transport.js';
export type { GatewayRequest, GatewayResponse } from './http/transport.js';
export { createAuthenticator, createMetricsAuthenticator, type ApiKeyConfig } from './auth.js';
