import { afterAll, beforeAll, expect, it } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createHeliosClient } from '../src/index.js';
import { FakeGateway } from './fake-gateway.js';

let g: FakeGateway;
beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  g = await new FakeGateway().start();
});
afterAll(() => g.stop());

it('events carry trace_id/span_id of the active span, across awaits, and none outside a span', async () => {
  const helios = createHeliosClient({ service: 'traced', endpoint: g.url, onDiagnostic: () => {} });
  const tracer = trace.getTracer('test');
  const ids: Array<{ traceId: string; spanId: string }> = [];
  await tracer.startActiveSpan('checkout', async (span) => {
    ids.push(span.spanContext());
    helios.event({ message: 'in parent' });
    await new Promise((r) => setTimeout(r, 5));
    await tracer.startActiveSpan('charge', async (child) => {
      ids.push(child.spanContext());
      helios.logger.error('charge failed');
      child.end();
    });
    span.end();
  });
  helios.event({ message: 'outside' });
  expect(await helios.flush()).toBe(true);
  await helios.shutdown();

  const [parent, child, outside] = g.accepted;
  expect(parent).toMatchObject({ trace_id: ids[0]!.traceId, span_id: ids[0]!.spanId });
  expect(child).toMatchObject({ trace_id: ids[0]!.traceId, span_id: ids[1]!.spanId, level: 'ERROR' });
  expect(parent!['trace_id']).toMatch(/^[0-9a-f]{32}$/);
  expect(outside!['trace_id']).toBeUndefined();
  expect(outside!['span_id']).toBeUndefined();
});
