/**
 * The object in a create, update or delete request body, in the JSON shape the server
 * works with, whatever the Content-Type it came in (content-negotiation.ts says which are
 * accepted): JSON, YAML, or Kubernetes protobuf as client-go and kubectl's typed commands
 * send built-in kinds (controller-runtime does by default; upstream's driver creates synced
 * Secrets that way).
 */
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from './object-store.js';
import { ProtobufDecodeError, decodeObject } from './protobuf/codec.js';
import type { Format } from './content-negotiation.js';
import { statusError } from './status.js';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw statusError(400, `the body of the request could not be decoded as YAML: ${(err as Error).message}`);
  }
}

function decodeProtobuf(body: Buffer): KubeObject {
  try {
    return decodeObject(body) as KubeObject;
  } catch (err) {
    if (err instanceof ProtobufDecodeError && err.unsupportedKind !== undefined) {
      throw statusError(415, `the simulated API server has no protobuf schema for kind ${JSON.stringify(err.unsupportedKind)} (proto/k8s): send application/json instead`, 'UnsupportedMediaType');
    }
    throw statusError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

/** The request body as a value (any JSON value: callers check its shape). */
export function decodeBody(body: Buffer, format: Format): unknown {
  switch (format) {
    case 'protobuf':
      return decodeProtobuf(body);
    case 'yaml':
      return parseYamlBody(body.toString('utf8'));
    case 'json':
      return parseJson(body.toString('utf8'));
  }
}
