export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export type { GatewayRequest, GatewayResponse } from './http/transport.js';
export { createAuthenticator, createMetricsAuthenticator, type ApiKeyConfig } from './auth.js';
