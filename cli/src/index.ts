export { startHelios, HELIOS_ROLES, type HeliosApp, type HeliosAppOptions, type HeliosRole } from './app.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo.js';
export { DEMO_SERVICES, minuteOfTraffic, seededRandom, type ServiceProfile, type IncidentSpec, type IncidentKind } from './traffic.js';
