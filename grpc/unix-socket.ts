/**
 * Serving gRPC on a unix socket the way a node plugin must: the endpoint is parsed the way
 * upstream parses it, a stale socket file from a previous run is removed first, the parent
 * directory is created, and the socket is restricted to its owner and group once bound
 * (the socket's permissions are the only security boundary on this channel).
 */
import * as grpc from '@grpc/grpc-js';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `unix:///abs/path.sock` or `unix://rel/path.sock` (upstream's default `unix://tmp/csi.sock`
 * means `/tmp/csi.sock`), or a bare absolute path. Anything else is an error that says what
 * is accepted.
 */
export function parseUnixEndpoint(endpoint: string): string {
  const m = /^unix:\/\/(.*)$/i.exec(endpoint) ?? /^unix:(\/.*)$/i.exec(endpoint);
  let path: string | undefined;
  if (m) path = m[1]!.startsWith('/') ? m[1] : `/${m[1]}`;
  else if (endpoint.startsWith('/')) path = endpoint;
  if (!path || path === '/') {
    throw new Error(`unsupported endpoint ${JSON.stringify(endpoint)}: use unix:///path/to/socket.sock`);
  }
  return resolve(path);
}

/** Removes a leftover socket file; refuses to delete anything that is not a socket. */
export async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) {
    throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  }
  await unlink(path);
}

/** Binds `server` to the unix socket at `path` with mode `mode` (default 0660). */
export async function bindUnixSocket(server: grpc.Server, path: string, mode = 0o660): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  await removeStaleSocket(path);
  await new Promise<void>((res, rej) => {
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? rej(err) : res()));
  });
  await chmod(path, mode);
}

/** Stops accepting calls, lets running calls finish for up to `graceMs`, then cuts them. */
export async function shutdownServer(server: grpc.Server, graceMs = 5000): Promise<void> {
  await new Promise<void>((res) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      res();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      res();
    });
  });
}
