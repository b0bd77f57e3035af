import { createGateway } from '../../gateway/dist/index.js';
import { createMemoryBus, createMetricsRegistry, defaultConfig, silentLogger, Topics } from '../../core/dist/index.js';
const transport = process.argv[2];
const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, transport, maxEventsPerRequest: 10_000, ...(process.argv[3] ? { maxInFlightBodyBytes: Number(process.argv[3]) } : {}) };
const bus = createMemoryBus({ capacity: 10_000_000 });
let n = 0;
bus.subscribe(Topics.events, 'count', async (r) => { n += r.length; });
const gateway = createGateway({ config, bus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
const { port } = await gateway.start();
let peak = 0;
setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20).unref();
process.send({ port });
process.on('message', (m) => {
  if (m === 'gc') { global.gc?.(); }
  process.send({ rss: process.memoryUsage().rss, peak, budgetPeak: gateway.bodyBudget.peak, inUse: gateway.bodyBudget.inUse, events: n });
});
