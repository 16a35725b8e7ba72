/**
 * The provider's MountResponse as it came off the wire. gRPC decodes `File.path` (a proto3
 * `string`) with replacement characters for invalid UTF-8, so a file would be written under
 * another name than the provider sent; this reads each path's bytes from the message as
 * well, so the writer can refuse a path that is not UTF-8 (payload.ts). The wire contract
 * (provider.proto, package v1alpha1) is unchanged.
 */
import protobuf from 'protobufjs/minimal.js';
import type { MountResponse__Output } from '../../proto/gen/v1alpha1/MountResponse.js';

/** MountResponse.files = 3, File.path = 1; length-delimited wire type 2. */
const filesField = 3;
const pathField = 1;
const lengthDelimited = 2;

/**
 * The bytes of each `files[i].path` in `message` (an encoded MountResponse), in order: as
 * protobuf decodes them, the last occurrence of the field wins and a missing one is empty.
 * Throws on a malformed message, as the decoder itself would.
 */
export function filePathBytes(message: Uint8Array): Uint8Array[] {
  const r = protobuf.Reader.create(message);
  const paths: Uint8Array[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== filesField || (tag & 7) !== lengthDelimited) {
      r.skipType(tag & 7);
      continue;
    }
    const end = r.uint32() + r.pos;
    let path: Uint8Array = new Uint8Array(0);
    while (r.pos < end) {
      const t = r.uint32();
      if (t >>> 3 === pathField && (t & 7) === lengthDelimited) path = r.bytes();
      else r.skipType(t & 7);
    }
    paths.push(path);
  }
  return paths;
}

/** A decoded MountResponse with the raw bytes of each file's path beside it. */
export type MountReply = MountResponse__Output & { filePathBytes: Uint8Array[] };

/** Wraps the generated MountResponse deserializer so that it also returns the raw path bytes. */
export function withFilePathBytes(decode: (buf: Buffer) => MountResponse__Output): (buf: Buffer) => MountReply {
  return (buf) => Object.assign(decode(buf), { filePathBytes: filePathBytes(buf) });
}
