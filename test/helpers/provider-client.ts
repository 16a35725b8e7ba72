/** A raw v1alpha1 provider client for tests, each RPC as a promise. */
import * as grpc from '@grpc/grpc-js';
import { loadProviderProto } from '../../proto/load.js';
import type { MountRequest } from '../../proto/gen/v1alpha1/MountRequest.js';
import type { MountResponse__Output } from '../../proto/gen/v1alpha1/MountResponse.js';
import type { VersionResponse__Output } from '../../proto/gen/v1alpha1/VersionResponse.js';

export function rawProviderClient(socket: string) {
  const client = new (loadProviderProto().v1alpha1.CSIDriverProvider)(`unix://${socket}`, grpc.credentials.createInsecure());
  return {
    mount: (req: MountRequest, deadlineMs = 10_000) =>
      new Promise<MountResponse__Output>((resolve, reject) =>
        client.Mount(req, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res!))),
      ),
    version: (deadlineMs = 10_000) =>
      new Promise<VersionResponse__Output>((resolve, reject) =>
        client.Version({ version: 'v1alpha1' }, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res!))),
      ),
    close: () => client.close(),
  };
}

/** Mount attributes for the fake provider: its `objects` parameter plus pod info. */
export function fakeAttributes(objects: string, extra: Record<string, string> = {}): string {
  return JSON.stringify({
    objects,
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/pod.namespace': 'default',
    ...extra,
  });
}
