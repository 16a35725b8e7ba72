/**
 * Kubernetes objects in their JSON shape to and from `application/vnd.kubernetes.protobuf`
 * bodies, for the kinds proto/k8s has a schema for.
 */
import { decodeJson, encodeJson } from './json-form.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import { messageType } from './k8s-schema.js';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

type Json = Record<string, unknown>;

/** Thrown for bytes that are not a well-formed object of a kind we know. */
export class ProtobufDecodeError extends Error {
  /** The envelope's kind when the bytes were fine but the kind has no schema. */
  readonly unsupportedKind: string | undefined;
  constructor(message: string, unsupportedKind?: string) {
    super(message);
    this.unsupportedKind = unsupportedKind;
  }
}

/** An object in its JSON shape (with apiVersion and kind from the envelope). */
export function decodeObject(body: Uint8Array): Json {
  let env;
  try {
    env = openEnvelope(body);
  } catch (err) {
    throw new ProtobufDecodeError((err as Error).message);
  }
  const type = messageType(env.apiVersion, env.kind);
  if (!type) throw new ProtobufDecodeError(`no protobuf schema for kind ${JSON.stringify(env.kind)} in ${JSON.stringify(env.apiVersion)}`, env.kind);
  let object: Json;
  try {
    object = decodeJson(type, env.raw);
  } catch (err) {
    throw new ProtobufDecodeError(`the ${env.kind} could not be decoded: ${(err as Error).message}`);
  }
  return { apiVersion: env.apiVersion, kind: env.kind, ...object };
}

/** Whether `object` (by its apiVersion and kind) can be encoded. */
export function canEncode(object: { apiVersion?: unknown; kind?: unknown }): boolean {
  return typeof object.apiVersion === 'string' && typeof object.kind === 'string' && messageType(object.apiVersion, object.kind) !== undefined;
}

/** The protobuf body of a JSON object; its apiVersion and kind pick the message. */
export function encodeObject(object: Json): Buffer {
  const apiVersion = String(object.apiVersion ?? '');
  const kind = String(object.kind ?? '');
  const type = messageType(apiVersion, kind);
  if (!type) throw new Error(`no protobuf schema for kind ${JSON.stringify(kind)} in ${JSON.stringify(apiVersion)}`);
  return sealEnvelope(apiVersion, kind, encodeJson(type, object));
}
