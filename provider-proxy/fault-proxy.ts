/**
 * The fault proxy: a v1alpha1 CSIDriverProvider server on a unix socket of its own that
 * forwards every Version and Mount call to an external provider's socket, so the scenarios
 * can inject the fake provider's faults (`unavailable`, `error`, `latency`, `hang`,
 * `bad-path`, `oversize`, `hold`, with `count`) in front of a provider they did not write.
 *
 * Without a fault a call passes through as bytes: the request and the reply are never
 * decoded (raw unary methods), the caller's deadline and `:authority` go on to the provider,
 * and a gRPC status comes back as the provider gave it. Only a fault that changes the reply
 * (`error`, `bad-path`, `oversize`) decodes it, changes it and encodes it again. The faults
 * and the control API are the fake provider's own code (fake-providers/faults.ts,
 * control-api.ts); the object routes answer 404, since the objects live in the author's
 * backend.
 */
import * as grpc from '@grpc/grpc-js';
import { rm } from 'node:fs/promises';
import { bindUnixSocket, shutdownServer } from '../grpc/unix-socket.js';
import { rawUnaryMethod } from '../harness/grpc-echo.js';
import { createLogger, type Logger } from '../log/logger.js';
import { startControlApi, type CallCounts, type StartedControlApi } from '../fake-providers/control-api.js';
import { badPathFile, Faults, oversizeFile, type Fault } from '../fake-providers/faults.js';
import { loadProviderProto } from '../proto/load.js';
import type { MountResponse, MountResponse__Output } from '../proto/gen/v1alpha1/MountResponse.js';

const service = 'v1alpha1.CSIDriverProvider';
const methods = {
  Version: rawUnaryMethod(`/${service}/Version`),
  Mount: rawUnaryMethod(`/${service}/Mount`),
} satisfies grpc.ServiceDefinition;

/** No size limit of its own: what the provider sends, the driver receives (and judges). */
const unlimited = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };
/** After a provider restart the proxy reconnects at once, adding no backoff of its own to the driver's. */
const reconnectAtOnce = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 };

/** Metadata a gRPC library sets itself; the rest of what the caller sent goes on. */
const ownHeaders = /^(user-agent|grpc-.*|:.*|content-type|te|host)$/;

export interface FaultProxyOptions {
  /** Where the proxy serves (the driver's `<provider dir>/<name>.sock` points here). */
  socket: string;
  /** The external provider's socket. */
  upstream: string;
  /** HOST:PORT of the control API (127.0.0.1:0 for a free port); none when absent. */
  controlAddr?: string;
  logger?: Logger;
}

export interface StartedFaultProxy {
  readonly socket: string;
  readonly upstream: string;
  /** The control API's base URL (the fake provider's routes but the object ones), or null. */
  readonly control: string | null;
  readonly faults: Faults;
  /** Mount calls seen, answered now, and the most at once (what GET /state reports). */
  readonly counts: CallCounts;
  close(): Promise<void>;
}

type Reply = (err: Partial<grpc.StatusObject> | null, value?: Buffer) => void;

/** The reply `fault` makes of the provider's encoded MountResponse: a new encoding, or the same bytes. */
function faultedReply(reply: Buffer, fault: Fault | null): Buffer {
  if (fault?.mode !== 'error' && fault?.mode !== 'bad-path' && fault?.mode !== 'oversize') return reply;
  const mount = loadProviderProto().v1alpha1.CSIDriverProvider.service.Mount;
  const decoded = mount.responseDeserialize(reply) as MountResponse__Output;
  const changed: MountResponse = { object_version: decoded.object_version, files: decoded.files, ...(decoded.error ? { error: decoded.error } : {}) };
  if (fault.mode === 'error') Object.assign(changed, { files: [], error: { code: fault.code ?? 'FaultProxyError' } });
  else changed.files = [...decoded.files, fault.mode === 'bad-path' ? badPathFile() : oversizeFile()];
  return mount.responseSerialize(changed);
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<StartedFaultProxy> {
  const logger = options.logger ?? createLogger({ name: 'fault-proxy' });
  const faults = new Faults();
  const counts: CallCounts = { requests: 0, inflight: 0, maxInflight: 0 };
  const client = new grpc.Client(`unix://${options.upstream}`, grpc.credentials.createInsecure(), { ...unlimited, ...reconnectAtOnce });

  /** Sends the call on to the provider as it came: bytes, deadline, authority, metadata. */
  const forward = (path: string, call: grpc.ServerUnaryCall<Buffer, Buffer>, reply: Reply) => {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(call.metadata.getMap())) if (!ownHeaders.test(key)) metadata.set(key, value);
    const out = client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, call.request, metadata, { deadline: call.getDeadline(), host: call.getHost() }, (err, value) =>
      err ? reply({ code: err.code, details: err.details, metadata: err.metadata }) : reply(null, value),
    );
    call.once('cancelled', () => out.cancel());
  };
  const unavailable = (reply: Reply) => () => reply({ code: grpc.status.UNAVAILABLE, details: `fault proxy: injected fault unavailable (the provider at ${options.upstream} was not called)` });

  const server = new grpc.Server(unlimited);
  server.addService(methods, {
    Version: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const reply: Reply = (err, value) => (err ? callback(err) : callback(null, value));
      faults.schedule(faults.peekForVersion(), call, () => forward(methods.Version.path, call, reply), unavailable(reply));
    },
    Mount: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      counts.requests++;
      counts.inflight++;
      counts.maxInflight = Math.max(counts.maxInflight, counts.inflight);
      let finished = false;
      const finish = () => {
        if (!finished) {
          finished = true;
          counts.inflight--;
        }
      };
      call.once('cancelled', finish);
      const fault = faults.takeForMount();
      if (fault) logger.info({ fault: fault.mode }, 'mount with a fault');
      const reply: Reply = (err, value) => {
        finish();
        if (err) return callback(err);
        let answer: Buffer;
        try {
          answer = faultedReply(value!, fault);
        } catch (e) {
          return callback({ code: grpc.status.INTERNAL, details: `fault proxy: cannot apply the fault ${fault?.mode} to the provider's reply: ${(e as Error).message}` });
        }
        callback(null, answer);
      };
      faults.schedule(fault, call, () => forward(methods.Mount.path, call, reply), unavailable(reply));
    },
  });
  await bindUnixSocket(server, options.socket);
  let control: StartedControlApi | undefined;
  try {
    control = options.controlAddr
      ? await startControlApi(
          { faults, counts, state: () => ({ upstream: options.upstream }), noObjects: `the fault proxy has no objects: they live in the provider's backend at ${options.upstream} (the scenarios change them with --rotate-cmd)` },
          options.controlAddr,
        )
      : undefined;
  } catch (err) {
    server.forceShutdown();
    client.close();
    await rm(options.socket, { force: true });
    throw err;
  }
  logger.info({ socket: options.socket, upstream: options.upstream, control: control?.url ?? null }, 'fault proxy ready');
  return {
    socket: options.socket,
    upstream: options.upstream,
    control: control?.url ?? null,
    faults,
    counts,
    async close() {
      faults.clear();
      await control?.close();
      await shutdownServer(server, 2000);
      client.close();
      await rm(options.socket, { force: true });
    },
  };
}
