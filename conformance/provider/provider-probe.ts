/**
 * The provider conformance kit's client: calls a provider's Version and Mount over its
 * unix socket as the driver does (insecure, authority localhost), but keeps what a judge
 * needs — every reply's size on the wire and its latency — and never throws: each call
 * ends in an outcome, a reply or a gRPC status. Its receive limit is far above the
 * driver's default so an oversized reply is measured rather than refused.
 */
import * as grpc from '@grpc/grpc-js';
import { providerPackageDefinition } from '../../proto/load.js';
import type { MountRequest } from '../../proto/gen/v1alpha1/MountRequest.js';
import type { MountResponse__Output } from '../../proto/gen/v1alpha1/MountResponse.js';
import type { VersionResponse__Output } from '../../proto/gen/v1alpha1/VersionResponse.js';

export interface CallOutcome<Res> {
  /** The reply, when the call ended with status OK. */
  reply?: Res;
  /** The gRPC status when it did not. */
  status?: { code: string; details: string };
  /** Serialized size of the reply in bytes (0 without a reply). */
  bytes: number;
  ms: number;
}

interface Sized<Res> {
  bytes: number;
  message: Res;
}

const measuringLimit = 256 * 1024 * 1024;

export class ProviderProbe {
  private readonly client: grpc.Client & Record<string, grpc.requestCallback<unknown> & ((...args: unknown[]) => grpc.ClientUnaryCall)>;
  /** Latencies of every recorded call that got a reply, in order. */
  readonly replyLatencies: number[] = [];

  constructor(
    readonly socket: string,
    private readonly timeoutMs: number,
  ) {
    const service = providerPackageDefinition()['v1alpha1.CSIDriverProvider']!;
    const measured = Object.fromEntries(
      Object.entries(service).map(([name, def]) => [name, { ...def, responseDeserialize: (buf: Buffer): Sized<object> => ({ bytes: buf.length, message: def.responseDeserialize(buf) }) }]),
    ) as unknown as grpc.ServiceDefinition;
    const Ctor = grpc.makeGenericClientConstructor(measured, 'CSIDriverProvider');
    this.client = new Ctor(`unix://${socket}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': measuringLimit,
      'grpc.default_authority': 'localhost',
      'grpc.enable_retries': 0,
    }) as never;
  }

  private call<Res>(method: 'Version' | 'Mount', req: object, record: boolean): Promise<CallOutcome<Res>> {
    const t = performance.now();
    return new Promise((resolve) => {
      (this.client[method] as (r: object, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Sized<Res>) => void) => void)(
        req,
        { deadline: Date.now() + this.timeoutMs },
        (err, res) => {
          const ms = performance.now() - t;
          if (err) return resolve({ status: { code: grpc.status[err.code] ?? String(err.code), details: err.details }, bytes: 0, ms });
          if (record) this.replyLatencies.push(ms);
          resolve({ reply: res!.message, bytes: res!.bytes, ms });
        },
      );
    });
  }

  version(): Promise<CallOutcome<VersionResponse__Output>> {
    return this.call('Version', { version: 'v1alpha1' }, true);
  }

  /** `record: false` keeps the call out of `replyLatencies` (calls made under load). */
  mount(req: MountRequest, record = true): Promise<CallOutcome<MountResponse__Output>> {
    return this.call('Mount', req, record);
  }

  close(): void {
    this.client.close();
  }
}

/** How an outcome reads in evidence: the status, the provider's error code, or the counts. */
export function describeOutcome(o: CallOutcome<MountResponse__Output>): string {
  if (o.status) return `gRPC ${o.status.code}: ${o.status.details}`;
  const r = o.reply!;
  if (r.error?.code) return `error code ${JSON.stringify(r.error.code)} (${r.files.length} files, ${r.object_version.length} object versions)`;
  return `${r.files.length} files, ${r.object_version.length} object versions, ${formatBytes(o.bytes)}`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
