/**
 * The names of the suites that other suites' ratios are built from: the floors and the
 * suites they bound, each spelled once here so a ratio cannot miss its floor by a typo
 * (groups.ts combines floors of several groups; the JSON rows and the baseline carry these
 * names, so they are part of the interface).
 */

/** `10x1KiB`: `objects` objects of `bytes` bytes each. */
export const sizeLabel = (objects: number, bytes: number) => `${objects}x${bytes >= 1024 ? `${bytes / 1024}KiB` : `${bytes}B`}`;

export const floors = {
  /** micro: an empty unary call on a gRPC unix socket. */
  grpcEmpty: 'floor grpc-empty',
  /** micro: a raw mount(2) + umount2(2) of a tmpfs (root only). */
  mountUmount: 'floor mount-umount',
  /** micro: writeFileSync of the same bytes into a fresh directory. */
  rawWrite: (label: string) => `floor raw-write ${label}`,
  /** node-publish: NodeGetInfo on the driver's socket. */
  csiEmpty: 'floor csi-empty',
  /** node-publish: Version on the provider's socket. */
  providerEmpty: 'floor provider-empty',
  /** node-publish: a bare keep-alive HTTPS GET of the SPC from another process. */
  apiGet: 'floor api-get',
} as const;

export const isFloor = (name: string) => name.startsWith('floor ');

export const nodePublishName = (label: string) => `node-publish ${label}`;
export const nodeUnpublishName = (label: string) => `node-unpublish ${label}`;

/** The size the node-publish group publishes (groups.ts runs it with these). */
export const nodePublishSize = { objects: 10, objectBytes: 1024 } as const;
