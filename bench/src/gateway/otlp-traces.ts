/**
 * OTLP protobuf trace bodies for the peer comparison (ExportTraceServiceRequest, field numbers from
 * opentelemetry-proto): server spans with http.route, a status code and a duration, spread over a few
 * services, so the gateway translates each into an event and the collector decodes the same bytes.
 */
class Writer {
  private readonly bytes: number[] = [];
  varint(value: number): this {
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  bytesField(field: number, content: readonly number[] | Uint8Array): this {
    this.tag(field, 2).varint(content.length);
    for (const b of content) this.bytes.push(b);
    return this;
  }
  string(field: number, text: string): this {
    return this.bytesField(field, Buffer.from(text, 'utf8'));
  }
  fixed64(field: number, value: bigint): this {
    this.tag(field, 1);
    for (let i = 0n; i < 8n; i++) this.bytes.push(Number((value >> (8n * i)) & 0xffn));
    return this;
  }
  finish(): number[] {
    return this.bytes;
  }
}

const attribute = (key: string, value: Writer): number[] => new Writer().string(1, key).bytesField(2, value.finish()).finish();

function randomBytes(random: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * 256));
}

/** `spans` server spans in one request, deterministic for a given seed. */
export function otlpProtoTraces(spans: number, seed = 7): Uint8Array {
  let state = seed >>> 0;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const routes = ['/api/orders/:id', '/api/payments', '/api/cart', '/api/search'];
  const byService = new Map<string, Writer[]>();
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < spans; i++) {
    const service = `service-${Math.floor(random() * 8)}`;
    const error = random() < 0.01;
    const route = routes[Math.floor(random() * routes.length)]!;
    const durationNs = BigInt(Math.round((error ? 800 : 40) * (0.5 + random()) * 1e6));
    const span = new Writer()
      .bytesField(1, randomBytes(random, 16))
      .bytesField(2, randomBytes(random, 8))
      .string(5, `GET ${route}`)
      .tag(6, 0).varint(2) // SPAN_KIND_SERVER
      .fixed64(7, nowNs - durationNs)
      .fixed64(8, nowNs)
      .bytesField(9, attribute('http.route', new Writer().string(1, route)))
      .bytesField(9, attribute('http.response.status_code', new Writer().tag(3, 0).varint(error ? 500 : 200)))
      .bytesField(15, new Writer().tag(3, 0).varint(error ? 2 : 1).finish());
    byService.set(service, [...(byService.get(service) ?? []), span]);
  }
  const request = new Writer();
  for (const [service, list] of byService) {
    const resource = new Writer().bytesField(1, attribute('service.name', new Writer().string(1, service)));
    const scopeSpans = new Writer().bytesField(1, new Writer().string(1, 'helios-bench').finish());
    for (const span of list) scopeSpans.bytesField(2, span.finish());
    request.bytesField(1, new Writer().bytesField(1, resource.finish()).bytesField(2, scopeSpans.finish()).finish());
  }
  return Uint8Array.from(request.finish());
}
