/**
 * Another "driver" for the driver conformance kit to judge: a CSI server on its own socket
 * that forwards every Identity, Node and Controller call to a real driver, optionally
 * misbehaving the way real drivers have — logging the volume's secrets, or leaving files in
 * the target after a failed mount. It shows the kit catching what it claims to catch.
 */
import * as grpc from '@grpc/grpc-js';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindUnixSocket, shutdownServer } from '../../grpc/unix-socket.js';
import { loadCsiProto } from '../../proto/load.js';

export type ProxyFlaw = 'none' | 'log-secret' | 'no-cleanup';

export interface CsiProxy {
  close(): Promise<void>;
}

export async function startCsiProxy(options: { socket: string; inner: string; log: string; flaw: ProxyFlaw }): Promise<CsiProxy> {
  const { csi } = loadCsiProto();
  const server = new grpc.Server();
  const clients: grpc.Client[] = [];
  for (const Service of [csi.v1.Identity, csi.v1.Node, csi.v1.Controller]) {
    const inner = new Service(`unix://${options.inner}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, (req: unknown, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void>;
    clients.push(inner);
    const handlers = Object.fromEntries(
      Object.keys(Service.service).map((method) => [
        method,
        (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          const req = call.request;
          if (method === 'NodePublishVolume' && options.flaw === 'log-secret') appendFileSync(options.log, `publishing ${String(req.volume_id)} with secrets ${JSON.stringify(req.secrets)}\n`);
          inner[method]!(req, { deadline: call.getDeadline() }, (err, res) => {
            if (err && method === 'NodePublishVolume' && options.flaw === 'no-cleanup' && err.code !== grpc.status.INVALID_ARGUMENT && typeof req.target_path === 'string' && req.target_path !== '') {
              mkdirSync(req.target_path, { recursive: true });
              writeFileSync(join(req.target_path, 'partial-secret'), 'half-written');
            }
            cb(err, res);
          });
        },
      ]),
    );
    server.addService(Service.service, handlers);
  }
  await bindUnixSocket(server, options.socket);
  return {
    async close() {
      await shutdownServer(server, 1000);
      for (const c of clients) c.close();
    },
  };
}
