/**
 * Protobuf wire encoding written from the wire rules alone (varints, length-delimited
 * fields) and Kubernetes' envelope (magic `k8s\0`, then runtime.Unknown{typeMeta{apiVersion=1,
 * kind=2}=1, raw=2, contentEncoding=3, contentType=4}), so tests can build and read bodies
 * without the server's own schema.
 */
export const protobufType = 'application/vnd.kubernetes.protobuf';

export const varint = (n: number): Buffer => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
};

export const bytesField = (field: number, value: Buffer | string) => {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value);
  return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
};

export const varintField = (field: number, value: number) => Buffer.concat([varint(field << 3), varint(value)]);

export const mapEntry = (field: number, key: string, value: Buffer | string) => bytesField(field, Buffer.concat([bytesField(1, key), bytesField(2, value)]));

/** A body as client-go sends it. */
export const k8sProtobuf = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from('k8s\0', 'binary'), bytesField(1, Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)])), bytesField(2, raw), bytesField(3, ''), bytesField(4, '')]);

/** The fields of a message by number: varints as numbers, length-delimited fields as bytes. */
export function readFields(b: Buffer): Map<number, Array<number | Buffer>> {
  const out = new Map<number, Array<number | Buffer>>();
  let i = 0;
  const readVarint = () => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const byte = b[i++]!;
      n += (byte & 0x7f) * mul;
      if (byte < 0x80) return n;
      mul *= 128;
    }
  };
  while (i < b.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) value = readVarint();
    else if (wire === 2) {
      const len = readVarint();
      value = b.subarray(i, i + len);
      i += len;
    } else throw new Error(`wire type ${wire} not expected in a Kubernetes message`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

/** One length-delimited field as a string (the first occurrence). */
export const stringField = (fields: Map<number, Array<number | Buffer>>, n: number): string | undefined => (fields.get(n)?.[0] as Buffer | undefined)?.toString('utf8');

/** A Kubernetes protobuf body opened: the envelope's apiVersion and kind, and the object's own fields. */
export function openK8sProtobuf(body: Buffer): { apiVersion?: string; kind?: string; object: Map<number, Array<number | Buffer>> } {
  if (!body.subarray(0, 4).equals(Buffer.from('k8s\0', 'binary'))) throw new Error(`not a Kubernetes protobuf body: starts with ${body.subarray(0, 4).toString('hex')}`);
  const unknown = readFields(body.subarray(4));
  const typeMeta = readFields(unknown.get(1)![0] as Buffer);
  return { apiVersion: stringField(typeMeta, 1), kind: stringField(typeMeta, 2), object: readFields((unknown.get(2)?.[0] as Buffer | undefined) ?? Buffer.alloc(0)) };
}
