/**
 * The driver conformance kit acting as the kubelet: it creates the pods and
 * SecretProviderClasses in the API server, lays out target paths as the kubelet does
 * (parents made, the target itself left to the driver), sends NodePublishVolume and
 * NodeUnpublishVolume as the kubelet sends them, and keeps what it published so it can
 * clean up whatever the checks leave.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CsiClient } from '../../harness/csi-client.js';
import type { NodePublishVolumeRequest } from '../../proto/gen/csi/v1/NodePublishVolumeRequest.js';
import type { KubeObject } from '../../sim/apiserver/object-store.js';
import { kubeletPublishRequest, kubeletTargetPath, volumeContextKeys } from '../contract/kubelet.js';
import { fail } from '../check.js';
import { namespace, type DriverEnv } from './driver-env.js';
import { objectsParameter, spcNames } from './kit-spcs.js';

export interface RpcOutcome<T = unknown> {
  ok: boolean;
  reply?: T;
  code: string;
  details: string;
  ms: number;
}

export interface DriverKitOptions {
  env: DriverEnv;
  client: CsiClient;
  driverName: string;
  /** What the driver wrote to stdout/stderr so far; undefined when the kit cannot see it. */
  output(): Promise<string | undefined>;
  /** Where the output comes from, for evidence. */
  outputSource: string;
  /** The deadline of a publish whose provider hangs. */
  hangDeadlineMs: number;
}

export interface MainPublish {
  pod: { name: string; uid: string };
  target: string;
  request: NodePublishVolumeRequest;
  /** Date.now() when the publish was sent. */
  sentAt: number;
  outcome: RpcOutcome;
}

/** The volume name the kit's pods mount their secrets-store volume as (the target path's `<volume>`). */
export const kitVolume = 'secrets';

export class DriverKit {
  private readonly pods = new Map<string, { name: string; uid: string }>();
  /** Targets of publishes that may have succeeded, unpublished at the end. */
  readonly touched = new Set<string>();
  private mainPublish: Promise<MainPublish> | undefined;
  private readonly memos = new Map<string, Promise<unknown>>();

  constructor(readonly options: DriverKitOptions) {}

  get env(): DriverEnv {
    return this.options.env;
  }

  get client(): CsiClient {
    return this.options.client;
  }

  /** Calls an RPC and turns the result into an outcome (never throws for a gRPC error). */
  async rpc<T>(call: Promise<T>): Promise<RpcOutcome<T>> {
    const t = performance.now();
    try {
      const reply = await call;
      return { ok: true, reply, code: 'OK', details: '', ms: performance.now() - t };
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (typeof e.code !== 'number') throw err;
      return { ok: false, code: grpc.status[e.code] ?? String(e.code), details: e.details ?? e.message, ms: performance.now() - t };
    }
  }

  /** Runs `fn` once per kit run; later calls share its result (checks that judge one experiment). */
  once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.memos.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      this.memos.set(key, p);
    }
    return p;
  }

  /**
   * A pod of the kit's namespace (created on first use), with the uid the API server gave
   * it; with `spc`, its spec carries the inline secrets-store volume naming it, as a pod
   * the kubelet publishes for does (a driver's sync may read it).
   */
  pod(name: string, spc?: string): { name: string; uid: string } {
    let p = this.pods.get(name);
    if (!p) {
      const volumes = spc ? [{ name: kitVolume, csi: { driver: this.options.driverName, readOnly: true, volumeAttributes: { secretProviderClass: spc } } }] : [];
      const obj = this.env.api.store.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace },
        spec: {
          nodeName: this.env.nodeId,
          serviceAccountName: 'default',
          containers: [{ name: 'app', image: 'registry.example/app:1', volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: '/mnt/secrets', readOnly: true })) }],
          volumes,
        },
        status: { phase: 'Pending' },
      } as KubeObject);
      p = { name, uid: obj.metadata.uid! };
      this.pods.set(name, p);
    }
    return p;
  }

  /** The main SPC's name: it names every object of the kit's provider (see kit-spcs.ts). */
  mainSpc(): string {
    return spcNames.main;
  }

  /** The fake provider's `objects` parameter of the main SPC. */
  objectsParameter(): string {
    return objectsParameter(this.env.objects);
  }

  /** Sets an annotation on a kit pod (as `kubectl annotate --overwrite` would). */
  annotatePod(name: string, key: string, value: string): void {
    const store = this.env.api.store;
    const pod = store.mustGet('pods', namespace, name);
    store.update('pods', { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, [key]: value } } });
  }

  /** The kubelet's target path for a pod volume; its parent exists, the target does not. */
  async target(uid: string, volume = kitVolume): Promise<string> {
    const t = kubeletTargetPath(this.env.kubeletRoot, uid, volume);
    await mkdir(dirname(t), { recursive: true });
    return t;
  }

  request(target: string, pod: { name: string; uid: string }, spc: string, extra: { secrets?: Record<string, string>; volumeContext?: Record<string, string>; volumeMountGroup?: string } = {}): NodePublishVolumeRequest {
    return kubeletPublishRequest({ targetPath: target, spc, pod: { name: pod.name, namespace, uid: pod.uid, serviceAccount: 'default' }, ...extra });
  }

  async publish(req: NodePublishVolumeRequest, deadlineMs?: number): Promise<RpcOutcome> {
    if (req.target_path) this.touched.add(req.target_path);
    return this.rpc(this.client.nodePublishVolume(req, deadlineMs !== undefined ? { deadlineMs } : {}));
  }

  async unpublish(target: string, volumeId = 'csi-conformance'): Promise<RpcOutcome> {
    const o = await this.rpc(this.client.nodeUnpublishVolume({ volume_id: volumeId, target_path: target }));
    if (o.ok) this.touched.delete(target);
    return o;
  }

  /**
   * The publish the publish-group checks inspect: pod `conformance-0`, the main SPC, the
   * nodePublish secrets and a service-account token as the kubelet would pass them.
   */
  published(): Promise<MainPublish> {
    this.mainPublish ??= (async () => {
      const pod = this.pod('conformance-0');
      const spc = this.mainSpc();
      const target = await this.target(pod.uid);
      const request = this.request(target, pod, spc, { secrets: this.env.nodePublishSecrets, volumeContext: { [volumeContextKeys.serviceAccountTokens]: this.env.serviceAccountTokens } });
      const sentAt = Date.now();
      const outcome = await this.publish(request);
      return { pod, target, request, sentAt, outcome };
    })();
    return this.mainPublish;
  }

  /** The main publication, or the check fails saying it was not made. */
  async okPublished(): Promise<MainPublish> {
    const p = await this.published();
    if (!p.outcome.ok) fail(`not evaluated: the publish of the main volume failed (${p.outcome.code}: ${p.outcome.details})`, 'a published volume', `${p.outcome.code}: ${p.outcome.details}`);
    return p;
  }
}

/** The outcome as one line of evidence. */
export const describeRpc = (o: RpcOutcome) => (o.ok ? `OK in ${o.ms.toFixed(1)} ms` : `${o.code}: ${o.details}`);
