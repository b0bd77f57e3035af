import { describe, expect, it } from 'vitest';
import { normalFeatures } from '@helios/plugins/testing';
import type { DetectorHooks } from '@helios/plugins';
import { evaluateDetectors } from './evaluate.js';
import type { LabelledDataset, LabelledWindow } from './synthetic.js';

const MIN = 60_000;
const WEEK = 7 * 24 * 60 * MIN;

describe('evaluateDetectors: false alerts per series-week', () => {
  it('counts alerts opened outside incidents per series-week of normal windows, by kind of series', async () => {
    // Two series a week long at one-minute hops: the requests (two false alerts, one incident) and a log stream (one false alert).
    const windows: LabelledWindow[] = [];
    const hops = WEEK / MIN;
    const flagged = new Set([`requests ${100}`, `requests ${5000}`, `logs ${700}`]);
    for (let i = 0; i < hops; i++) {
      const end = i * MIN;
      const inIncident = i >= 3000 && i < 3010;
      windows.push({ tenant: 't', service: 's', start: end - 5 * MIN, end, features: normalFeatures(), label: inIncident ? 1 : 0, ...(inIncident ? { incidentId: 'i1' } : {}) });
      windows.push({ tenant: 't', service: 's', stream: { kind: 'logs' }, start: end - 5 * MIN, end, features: normalFeatures(), label: 0 });
      if (inIncident) flagged.add(`requests ${i}`);
    }
    const hooks = {
      detect: (w: LabelledWindow) => {
        const anomalous = flagged.has(`${w.stream === undefined ? 'requests' : 'logs'} ${w.end / MIN}`);
        return { score: anomalous ? 3 : 0.1, threshold: 1, anomalous, explanation: [], modelVersion: 'test' };
      },
    } as unknown as DetectorHooks;
    const dataset: LabelledDataset = { name: 'test', windowMs: 5 * MIN, hopMs: MIN, windows, incidents: [{ id: 'i1', tenant: 't', service: 's', kind: 'error-burst', start: 3000 * MIN, end: 3010 * MIN }] };
    const result = await evaluateDetectors({ dataset, detectors: [{ name: 'test', hooks }], detection: { vote: 'any', confirmWindows: 2, resolveAfterWindows: 3, immediateRatio: 2 } });
    expect(result.incidents.detected).toBe(1);
    expect(result.falseAlerts.byStream.requests.falseAlerts).toBe(2);
    expect(result.falseAlerts.byStream.requests.normalSeriesWeeks).toBeCloseTo((hops - 10) / hops, 6);
    expect(result.falseAlerts.byStream.logs.perSeriesWeek).toBeCloseTo(1, 6);
    expect(result.falseAlerts.byStream.dependency.normalSeriesWeeks).toBe(0);
    expect(result.falseAlerts.falseAlerts).toBe(3);
    expect(result.falseAlerts.perSeriesWeek).toBeCloseTo(3 / ((2 * hops - 10) / hops), 6);
  });
});
