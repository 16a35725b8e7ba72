/**
 * The cheapest gRPC call Node can make: an echo service with no proto at all (one unary
 * method moving raw, empty buffers) on a unix socket, server and client in this process.
 * Its latency is a floor — the benchmarks' `floor grpc-empty` — and a figure of how fast
 * this machine is right now (harness/calibration.ts).
 */
import * as grpc from '@grpc/grpc-js';

/** A unary method at `path` that moves raw bytes both ways (no proto): any service's shape on the wire. */
export function rawUnaryMethod(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  const raw = (b: Buffer) => b;
  return { path, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
}

const echoService: grpc.ServiceDefinition = { Call: rawUnaryMethod('/bench.Echo/Call') };

export interface EchoPair {
  /** One empty call; resolves with its answer. */
  call(): Promise<void>;
  close(): Promise<void>;
}

/** An echo server on `socket` (a path; it must not exist) and a client connected to it. */
export async function startEcho(socket: string): Promise<EchoPair> {
  const server = new grpc.Server();
  server.addService(echoService, { Call: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.alloc(0)) });
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  const Echo = grpc.makeGenericClientConstructor(echoService, 'Echo');
  const client = new Echo(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Call: (req: Buffer, cb: (err: grpc.ServiceError | null) => void) => void };
  return {
    call: () => new Promise<void>((resolve, reject) => client.Call(Buffer.alloc(0), (err) => (err ? reject(err) : resolve()))),
    async close() {
      client.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
    },
  };
}
