export { startHelios, type HeliosApp, type HeliosAppOptions } from './app.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo.js';
export { DEMO_SERVICES, minuteOfTraffic, seededRandom, type ServiceProfile, type IncidentSpec, type IncidentKind } from './traffic.js';
