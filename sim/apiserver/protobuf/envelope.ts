/**
 * The envelope of Kubernetes' protobuf encoding: the magic `k8s\0`, then a
 * `runtime.Unknown` holding the object's TypeMeta (apiVersion, kind) and the object's own
 * message as raw bytes. Watch events travel as such envelopes too, each prefixed by its
 * length (4 bytes, big endian).
 */
import protobuf from 'protobufjs';
import { k8sRoot } from './k8s-schema.js';

export const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
}

const unknownType = (): protobuf.Type => k8sRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');

/** Opens an envelope; throws a TypeError saying what is wrong with the bytes. */
export function openEnvelope(body: Uint8Array): Envelope {
  if (body.length < magic.length || !Buffer.from(body.buffer, body.byteOffset, magic.length).equals(magic)) {
    throw new TypeError('a protobuf body starts with the magic "k8s\\x00"');
  }
  const t = unknownType();
  const u = t.toObject(t.decode(body.subarray(magic.length)), { bytes: Buffer }) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  return { apiVersion: u.typeMeta?.apiVersion ?? '', kind: u.typeMeta?.kind ?? '', raw: u.raw ?? new Uint8Array() };
}

/** Seals an object's message bytes in an envelope, as Go writes it (empty contentEncoding and contentType included). */
export function sealEnvelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const t = unknownType();
  const bytes = t.encode({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' }).finish();
  return Buffer.concat([magic, bytes]);
}
