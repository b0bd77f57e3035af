/**
 * OTLP protobuf trace bodies for the peer comparison (ExportTraceServiceRequest, field numbers from
 * opentelemetry-proto): server spans with http.route, a status code and a duration, spread over a few
 * services, so the gateway translates each into an event and the collector decodes the same bytes.
 */
import { ProtoWriter } from '@helios/cli/proto-writer';


const attribute = (key: string, value: ProtoWriter): number[] => new ProtoWriter().string(1, key).message(2, value.finish()).finish();

function randomBytes(random: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * 256));
}

/** `spans` server spans in one request, deterministic for a given seed. */
export function otlpProtoTraces(spans: number, seed = 7): Uint8Array {
  let state = seed >>> 0;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const routes = ['/api/orders/:id', '/api/payments', '/api/cart', '/api/search'];
  const byService = new Map<string, ProtoWriter[]>();
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < spans; i++) {
    const service = `service-${Math.floor(random() * 8)}`;
    const error = random() < 0.01;
    const route = routes[Math.floor(random() * routes.length)]!;
    const durationNs = BigInt(Math.round((error ? 800 : 40) * (0.5 + random()) * 1e6));
    const span = new ProtoWriter()
      .message(1, randomBytes(random, 16))
      .message(2, randomBytes(random, 8))
      .string(5, `GET ${route}`)
      .tag(6, 0).varint(2) // SPAN_KIND_SERVER
      .fixed64(7, nowNs - durationNs)
      .fixed64(8, nowNs)
      .message(9, attribute('http.route', new ProtoWriter().string(1, route)))
      .message(9, attribute('http.response.status_code', new ProtoWriter().tag(3, 0).varint(error ? 500 : 200)))
      .message(15, new ProtoWriter().tag(3, 0).varint(error ? 2 : 1).finish());
    byService.set(service, [...(byService.get(service) ?? []), span]);
  }
  const request = new ProtoWriter();
  for (const [service, list] of byService) {
    const resource = new ProtoWriter().message(1, attribute('service.name', new ProtoWriter().string(1, service)));
    const scopeSpans = new ProtoWriter().message(1, new ProtoWriter().string(1, 'helios-bench').finish());
    for (const span of list) scopeSpans.message(2, span.finish());
    request.message(1, new ProtoWriter().message(1, resource.finish()).message(2, scopeSpans.finish()).finish());
  }
  return Uint8Array.from(request.finish());
}
