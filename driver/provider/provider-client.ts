/**
 * The provider client pool (upstream `provider_client`): one cached gRPC channel per
 * provider socket, authority `localhost`, insecure (the socket's file permissions are the
 * boundary), retries of UNAVAILABLE up to 3 attempts through gRPC's own retry policy, a
 * receive limit of `--max-call-recv-msg-size`, a deadline on every call, and a bound on
 * in-flight Mount calls per provider.
 *
 * Contract: every failure is thrown as a CsiError whose message names the provider and
 * what went wrong; a reply that breaks the provider contract (error code set, no object
 * versions) is a failure too. File paths are validated later, by the writer, which gets
 * each path's bytes as the provider sent them (mount-response.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { loadProviderProto } from '../../proto/load.js';
import type { CSIDriverProviderClient } from '../../proto/gen/v1alpha1/CSIDriverProvider.js';
import type { VersionResponse__Output } from '../../proto/gen/v1alpha1/VersionResponse.js';
import type { Logger } from '../../log/logger.js';
import { CsiError, Status } from '../csi-error.js';
import type { ProvidedFile } from '../fileutil/payload.js';
import { InflightLimiter, QueueTimeoutError } from './inflight-limiter.js';
import { withFilePathBytes, type MountReply } from './mount-response.js';
import { findProviderSocket } from './provider-socket.js';

export interface ObjectVersion {
  id: string;
  version: string;
}

export interface MountParams {
  /** JSON string map: SPC parameters merged with the volume context. */
  attributes: string;
  /** JSON string map of the nodePublishSecretRef secrets. */
  secrets: string;
  targetPath: string;
  /** JSON decimal file mode, e.g. "420". */
  permission: string;
  currentObjectVersion: ObjectVersion[];
  /** Epoch ms by which the call must be done (the kubelet's deadline). */
  deadline: number;
}

export interface MountResult {
  objectVersions: ObjectVersion[];
  files: ProvidedFile[];
}

export interface ProviderClientOptions {
  providerVolume: string;
  additionalProviderVolumePaths: readonly string[];
  maxCallRecvMsgSize: number;
  /** Most Mount calls in flight per provider. */
  maxInflight: number;
  /** The longest one provider call may take, whatever the caller's deadline. */
  callTimeoutMs: number;
  logger: Logger;
}

interface Entry {
  socket: string;
  client: CSIDriverProviderClient;
  limiter: InflightLimiter;
}

export interface ProviderStats {
  provider: string;
  socket: string;
  inflight: number;
  queued: number;
  peakInflight: number;
}

const serviceConfig = JSON.stringify({
  methodConfig: [
    {
      name: [{ service: 'v1alpha1.CSIDriverProvider' }],
      retryPolicy: {
        maxAttempts: 3,
        initialBackoff: '0.1s',
        maxBackoff: '1s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
});

/**
 * The provider client class: the generated one, with Mount's reply deserializer also
 * returning the raw bytes of every file path.
 */
let providerClientClass: (new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => CSIDriverProviderClient) | undefined;
function providerClient(address: string, options: grpc.ChannelOptions): CSIDriverProviderClient {
  if (!providerClientClass) {
    const { service } = loadProviderProto().v1alpha1.CSIDriverProvider;
    const mount = { ...service.Mount, responseDeserialize: withFilePathBytes(service.Mount.responseDeserialize) };
    providerClientClass = grpc.makeGenericClientConstructor({ ...service, Mount: mount }, 'CSIDriverProvider') as unknown as typeof providerClientClass;
  }
  return new providerClientClass!(address, grpc.credentials.createInsecure(), options);
}

export class ProviderClients {
  private readonly entries = new Map<string, Entry>();
  private readonly searchDirs: string[];

  constructor(private readonly options: ProviderClientOptions) {
    this.searchDirs = [...options.additionalProviderVolumePaths, options.providerVolume];
  }

  /** The cached channel for `provider`, rebuilt when its socket moved. */
  private entry(provider: string): Entry {
    const socket = findProviderSocket(provider, this.searchDirs);
    const cached = this.entries.get(provider);
    if (cached && cached.socket === socket) return cached;
    cached?.client.close();
    const client = providerClient(`unix://${socket}`, {
      'grpc.default_authority': 'localhost',
      'grpc.max_receive_message_length': this.options.maxCallRecvMsgSize,
      'grpc.service_config': serviceConfig,
      'grpc.enable_retries': 1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
    const entry: Entry = { socket, client, limiter: cached?.limiter ?? new InflightLimiter(this.options.maxInflight) };
    this.entries.set(provider, entry);
    this.options.logger.info({ provider, socket }, 'connected to provider');
    return entry;
  }

  /**
   * The provider call's deadline: within `--provider-timeout`, and a little before the
   * caller's own (10% of what is left, at most 1 s) so the driver still has time to clean
   * up and answer with what went wrong rather than the caller seeing a bare timeout.
   */
  private deadlineOf(callerDeadline: number): number {
    const now = Date.now();
    const reserve = Number.isFinite(callerDeadline) ? Math.min(1000, Math.max(0, (callerDeadline - now) * 0.1)) : 0;
    return Math.min(callerDeadline - reserve, now + this.options.callTimeoutMs);
  }

  /** Calls the provider's Mount and checks the reply against the provider contract. */
  async mount(provider: string, params: MountParams): Promise<MountResult> {
    const entry = this.entry(provider);
    const deadline = this.deadlineOf(params.deadline);
    let response: MountReply;
    try {
      response = await entry.limiter.run(deadline, () =>
        new Promise<MountReply>((resolve, reject) => {
          entry.client.Mount(
            {
              attributes: params.attributes,
              secrets: params.secrets,
              target_path: params.targetPath,
              permission: params.permission,
              current_object_version: params.currentObjectVersion,
            },
            { deadline },
            (err, res) => (err ? reject(err) : resolve(res as MountReply)),
          );
        }),
      );
    } catch (err) {
      throw this.callError(provider, entry, 'Mount', err);
    }
    if (response.error && response.error.code !== '') {
      throw new CsiError(
        Status.UNKNOWN,
        `provider ${JSON.stringify(provider)} failed to mount: it returned error code ${JSON.stringify(response.error.code)}`,
        response.error.code,
      );
    }
    if (response.object_version.length === 0) {
      throw new CsiError(
        Status.UNKNOWN,
        `provider ${JSON.stringify(provider)} returned no object versions; a provider must report the id and version of every object it mounts`,
        'GRPCProviderError',
      );
    }
    return {
      objectVersions: response.object_version.map((o) => ({ id: o.id, version: o.version })),
      files: response.files.map((f, i) => ({ path: f.path, rawPath: response.filePathBytes[i] ?? new Uint8Array(0), mode: f.mode, contents: f.contents })),
    };
  }

  /** The provider's Version (the health check's call). */
  async version(provider: string, timeoutMs: number): Promise<VersionResponse__Output> {
    const entry = this.entry(provider);
    const deadline = Date.now() + timeoutMs;
    try {
      return await new Promise<VersionResponse__Output>((resolve, reject) => {
        entry.client.Version({ version: 'v1alpha1' }, { deadline }, (err, res) => (err ? reject(err) : resolve(res!)));
      });
    } catch (err) {
      throw this.callError(provider, entry, 'Version', err);
    }
  }

  private callError(provider: string, entry: Entry, method: string, err: unknown): CsiError {
    const name = JSON.stringify(provider);
    if (err instanceof QueueTimeoutError) {
      return new CsiError(
        Status.DEADLINE_EXCEEDED,
        `provider ${name} is saturated: the call to ${method} ${err.message} and the deadline passed; raise --provider-max-inflight if the provider can take more`,
        'GRPCProviderError',
      );
    }
    const e = err as grpc.ServiceError;
    const details = e.details || e.message;
    switch (e.code) {
      case Status.UNAVAILABLE:
        return new CsiError(Status.UNAVAILABLE, `provider ${name} is unavailable at ${entry.socket}: ${details}; is the provider running?`, 'GRPCProviderError', { cause: err });
      case Status.DEADLINE_EXCEEDED:
        return new CsiError(Status.DEADLINE_EXCEEDED, `provider ${name} did not answer ${method} before the deadline (${details})`, 'GRPCProviderError', { cause: err });
      case Status.RESOURCE_EXHAUSTED:
        return new CsiError(
          Status.RESOURCE_EXHAUSTED,
          `provider ${name} reply to ${method} is too large: ${details}; raise --max-call-recv-msg-size (now ${this.options.maxCallRecvMsgSize} bytes) or mount fewer objects`,
          'GRPCProviderError',
          { cause: err },
        );
      case Status.CANCELLED:
        return new CsiError(Status.CANCELLED, `call to provider ${name} was cancelled`, 'GRPCProviderError', { cause: err });
      case Status.INTERNAL:
        // grpc-js's words when the reply bytes do not decode as the expected message.
        if (/^Response message parsing error/.test(details)) {
          return new CsiError(
            Status.UNKNOWN,
            `provider ${name} sent a reply to ${method} that is not a valid v1alpha1 ${method}Response (${details}); check that the provider implements the v1alpha1 CSIDriverProvider API`,
            'GRPCProviderError',
            { cause: err },
          );
        }
        return new CsiError(Status.UNKNOWN, `provider ${name} failed to ${method.toLowerCase()}: INTERNAL: ${details}`, 'GRPCProviderError', { cause: err });
      default:
        return new CsiError(
          Status.UNKNOWN,
          `provider ${name} failed to ${method.toLowerCase()}: ${Status[e.code] ?? e.code}: ${details}`,
          'GRPCProviderError',
          { cause: err },
        );
    }
  }

  stats(): ProviderStats[] {
    return [...this.entries].map(([provider, e]) => ({
      provider,
      socket: e.socket,
      inflight: e.limiter.inflight,
      queued: e.limiter.queued,
      peakInflight: e.limiter.peakInflight,
    }));
  }

  close(): void {
    for (const e of this.entries.values()) e.client.close();
    this.entries.clear();
  }
}
