// Input checks and the byte encoding of saved forests (forest.ts): checked integers, rows into one
// row-major matrix, typed arrays to and from little-endian base64.

/** Row-major matrix: row r, column c is `data[r * cols + c]`. */
export interface RowMatrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export type RowsInput = ArrayLike<ArrayLike<number>> | RowMatrix;

export function integerOption(value: number | undefined, key: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`'${key}' must be an integer in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

export function integerField(input: Record<string, unknown>, key: string, min: number): number {
  const value = input[key];
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > 0x7fffffff) {
    throw new Error(`invalid model: ${key} must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value as number;
}

/**
 * Accepts an array of rows or a row-major matrix and returns a validated row-major matrix (the matrix
 * itself when given one, a copy otherwise). Training rejects any non-finite value; scoring rejects only NaN,
 * since ±Infinity is a meaningful "beyond everything seen".
 */
export function toMatrix(rows: RowsInput, what: string, allowInfinity: boolean): RowMatrix {
  if (rows === null || typeof rows !== 'object') throw new TypeError(`${what} must be an array of rows or a matrix`);
  let matrix: RowMatrix;
  if ('data' in rows && rows.data instanceof Float64Array) {
    const { data, rows: count, cols } = rows;
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(cols) || cols < 1 || data.length !== count * cols) {
      throw new RangeError(`${what}: matrix of ${String(count)} x ${String(cols)} needs data of that length, got ${data.length}`);
    }
    matrix = rows as RowMatrix;
  } else {
    const list = rows as ArrayLike<ArrayLike<number>>;
    const count = list.length;
    const cols = count > 0 ? (list[0]?.length ?? 0) : 0;
    if (count > 0 && !(cols >= 1)) throw new RangeError(`${what}: row 0 must have at least one feature`);
    const data = new Float64Array(count * cols);
    for (let r = 0; r < count; r++) {
      const row = list[r];
      if (row == null || row.length !== cols) {
        throw new RangeError(`${what}: row ${r} has ${row == null ? 'no' : row.length} features, row 0 has ${cols}`);
      }
      for (let c = 0; c < cols; c++) data[r * cols + c] = row[c];
    }
    matrix = { data, rows: count, cols };
  }
  const { data, cols } = matrix;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (allowInfinity ? Number.isNaN(v) : !Number.isFinite(v)) {
      throw new RangeError(`${what}: row ${Math.floor(i / cols)} feature ${i % cols} is ${describe(v)}`);
    }
  }
  return matrix;
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeLittleEndian(array: Int32Array | Float64Array): string {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (LITTLE_ENDIAN_HOST) return Buffer.from(bytes).toString('base64');
  return Buffer.from(swapBytes(bytes, array.BYTES_PER_ELEMENT)).toString('base64');
}

export function decodeLittleEndian<T extends Int32Array | Float64Array>(
  input: Record<string, unknown>,
  key: string,
  Type: { new (length: number): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  const text = input[key];
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new Error(`invalid model: ${key} must be a base64 string`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== length * Type.BYTES_PER_ELEMENT) {
    throw new Error(`invalid model: ${key} holds ${bytes.length} bytes, expected ${length} values of ${Type.BYTES_PER_ELEMENT} bytes`);
  }
  const out = new Type(length);
  // Copy into the typed array's own (aligned) buffer: a decoded Buffer may sit at any offset of a pool.
  new Uint8Array(out.buffer).set(LITTLE_ENDIAN_HOST ? bytes : swapBytes(bytes, Type.BYTES_PER_ELEMENT));
  return out;
}

export function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) {
    for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b];
  }
  return out;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
