// The safetensors format (https://huggingface.co/docs/safetensors, "Format"), written in a few lines
// rather than a dependency: an 8-byte little-endian header length N, N bytes of JSON naming each
// tensor's dtype, shape and [begin, end) byte offsets into the data that follows, then the raw
// little-endian tensor bytes. The header is padded with spaces to a multiple of 8 bytes, as the
// reference writer does, so every tensor starts aligned.

export interface NamedTensor {
  name: string;
  shape: number[];
  /** Row-major values (float32, written little-endian). */
  data: Float32Array;
}

/** Header alignment of the reference implementation. */
const ALIGN = 8;

/** One safetensors file holding `tensors` (in the order given) and optional string metadata. */
export function writeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new RangeError(`tensor "${t.name}": shape [${t.shape.join(', ')}] holds ${size} values, not ${t.data.length}`);
    if (Object.hasOwn(header, t.name)) throw new Error(`tensor "${t.name}" is written twice`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((ALIGN - (new TextEncoder().encode(json).length % ALIGN)) % ALIGN);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    at += 4 * t.data.length;
  }
  return out;
}

/** The tensors of a safetensors file (F32 only): the reader the tests check the writer with. */
export function readSafetensors(bytes: Uint8Array): { tensors: NamedTensor[]; metadata: Record<string, string> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  const { __metadata__: metadata = {}, ...entries } = header;
  const tensors = Object.entries(entries).map(([name, e]) => {
    if (e.dtype !== 'F32') throw new Error(`tensor "${name}" is ${e.dtype}; only F32 is read`);
    const [begin, end] = e.data_offsets;
    const data = new Float32Array((end - begin) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(8 + n + begin + 4 * i, true);
    return { name, shape: e.shape, data };
  });
  return { tensors, metadata };
}
