import { definePlugin } from '@helios/plugins';
import { composeTemplateReport } from './compose.js';

/** The default composer ("mock" mode of the original design): free, deterministic, from the stored context alone. */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-template',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'Writes the five-section incident report from the detector explanation and stored context, without an LLM.',
  setup() {
    return { compose: composeTemplateReport };
  },
});

export { composeTemplateReport, classify, formatFeature } from './compose.js';
