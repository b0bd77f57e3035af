/**
 * A minimal protobuf writer for building OTLP request bodies in the load generator and the benches
 * (field numbers from opentelemetry-proto): varints, length-delimited fields and fixed64.
 */
export class ProtoWriter {
  private bytes: number[] = [];
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
  string(field: number, text: string): this {
    return this.message(field, Buffer.from(text, 'utf8'));
  }
  message(field: number, content: Uint8Array | number[]): this {
    this.tag(field, 2).varint(content.length);
    for (const b of content) this.bytes.push(b);
    return this;
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
