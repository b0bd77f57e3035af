import { createRequire } from 'node:module';
import { Type, definePlugin } from '@helios/plugins';

// Name, version and the plugin API range are declared once, in package.json (`helios.apiVersion`),
// where npm, `helios plugins list` and the host's compatibility check all read them.
const pkg = createRequire(import.meta.url)('./package.json');

export const configSchema = Type.Object(
  {
    factor: Type.Number({ default: 3, exclusiveMinimum: 1, description: 'A window is anomalous when its error rate exceeds this many times the recent average of its series.' }),
    minErrorRate: Type.Number({ default: 0.05, minimum: 0, maximum: 1, description: 'Error rates at or below this are never anomalous, so a quiet service does not alarm on one failure.' }),
    history: Type.Integer({ default: 30, minimum: 5, description: 'How many recent windows of the same series the average is taken over.' }),
  },
  { additionalProperties: false },
);

/** Flags a window whose error rate jumps well above the recent average of the same service. */
export default definePlugin({
  kind: 'detector',
  name: pkg.name,
  version: pkg.version,
  apiVersion: pkg.helios.apiVersion,
  description: pkg.description,
  configSchema,
  setup(ctx) {
    const { factor, minErrorRate, history } = ctx.options;
    // Error rates of the last `history` windows, per series (tenant/service); series are independent.
    const recent = new Map();
    ctx.logger.debug({ factor, minErrorRate, history }, 'error-rate detector ready');
    return {
      detect(window) {
        const key = `${window.tenant}/${window.service}`;
        const rates = recent.get(key) ?? [];
        recent.set(key, rates);
        const rate = window.features.error_rate;
        // Cold start: no opinion until five windows of this series have been seen.
        let detection;
        if (rates.length >= 5) {
          const baseline = rates.reduce((sum, r) => sum + r, 0) / rates.length;
          const limit = Math.max(minErrorRate, baseline * factor);
          detection = {
            score: rate,
            threshold: limit,
            anomalous: rate > limit,
            modelVersion: `${pkg.name}@${pkg.version}`,
            explanation: [{ feature: 'error_rate', value: rate, baseline, contribution: 1, direction: rate > baseline ? 'up' : rate < baseline ? 'down' : 'flat' }],
          };
        }
        // An anomalous window is not learnt from, so a long incident does not become the new normal.
        if (detection === undefined || !detection.anomalous) {
          rates.push(rate);
          if (rates.length > history) rates.shift();
        }
        return detection;
      },
      shutdown() {
        recent.clear(); // safe to call twice
      },
    };
  },
});
