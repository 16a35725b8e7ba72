/**
 * A provider that answers Mount with bytes it encodes itself, so a test can send what a
 * well-behaved protobuf library never would: a file path that is not UTF-8. The SPC
 * parameter `files` is a JSON list of {path (hex bytes), contents}; every reply reports one
 * object version.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';
import { bindUnixSocket, shutdownServer } from '../../grpc/unix-socket.js';
import { loadProviderProto } from '../../proto/load.js';

export interface RawFile {
  /** The path's bytes, hex-encoded. */
  pathHex: string;
  contents: string;
}

export const hex = (s: string | Uint8Array) => Buffer.from(s).toString('hex');

/** An encoded MountResponse: object_version {id: "obj", version: "1"} and the files. */
function encodeReply(files: RawFile[]): Buffer {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('obj').uint32((2 << 3) | 2).string('1').ldelim();
  for (const f of files) {
    w.uint32((3 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).bytes(Buffer.from(f.pathHex, 'hex'));
    w.uint32((2 << 3) | 0).int32(0o644);
    w.uint32((3 << 3) | 2).bytes(Buffer.from(f.contents));
    w.ldelim();
  }
  return Buffer.from(w.finish());
}

export async function startRawProvider(socket: string): Promise<{ calls: number; close(): Promise<void> }> {
  const state = { calls: 0 };
  const { service } = loadProviderProto().v1alpha1.CSIDriverProvider;
  const definition = { ...service, Mount: { ...service.Mount, responseSerialize: (b: Buffer) => b } } as grpc.ServiceDefinition;
  const server = new grpc.Server();
  server.addService(definition, {
    Version: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { version: 'v1alpha1', runtime_name: 'raw', runtime_version: 'v0.0.1' }),
    Mount: (call: grpc.ServerUnaryCall<{ attributes: string }, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      state.calls++;
      const attrs = JSON.parse(call.request.attributes) as Record<string, string>;
      cb(null, encodeReply(JSON.parse(attrs.files ?? '[]') as RawFile[]));
    },
  });
  await bindUnixSocket(server, socket);
  return {
    get calls() {
      return state.calls;
    },
    close: () => shutdownServer(server, 1000),
  };
}
