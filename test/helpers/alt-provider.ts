/**
 * A second provider, written unlike the fake provider so the conformance kit is shown not
 * to be tuned to ours: its SPC parameters are `vault` and a comma-separated `secrets` list,
 * files are `<name>.txt` with no mode of their own (0: the driver applies the permission),
 * versions are content digests, and an unknown secret is answered with an error code in
 * the reply (not a gRPC status). `escape` makes it a broken variant returning `../x`.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { bindUnixSocket, shutdownServer } from '../../grpc/unix-socket.js';
import { loadProviderProto } from '../../proto/load.js';

export const altVaults: Record<string, Record<string, string>> = {
  'team-a': { password: 's3cr3t-a', username: 'alice', 'tls-cert': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
};

export interface AltProvider {
  calls: number;
  close(): Promise<void>;
}

export async function startAltProvider(socket: string, options: { escape?: boolean } = {}): Promise<AltProvider> {
  const state = { calls: 0 };
  const server = new grpc.Server();
  server.addService(loadProviderProto().v1alpha1.CSIDriverProvider.service, {
    Version: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { version: 'v1alpha1', runtime_name: 'alt-provider', runtime_version: 'v2.3.1' }),
    Mount: (call: grpc.ServerUnaryCall<{ attributes: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      state.calls++;
      const attrs = JSON.parse(call.request.attributes) as Record<string, string>;
      const vault = altVaults[attrs.vault ?? ''];
      if (!vault) return cb(null, { error: { code: 'VaultNotFound' } });
      const names = (attrs.secrets ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const missing = names.filter((n) => !(n in vault));
      if (missing.length > 0) return cb(null, { error: { code: 'SecretNotFound' } });
      const files = names.map((n) => ({ path: `${n}.txt`, contents: Buffer.from(vault[n]!) }));
      if (options.escape) files.push({ path: '../x', contents: Buffer.from('x') });
      cb(null, { files, object_version: names.map((n) => ({ id: `${attrs.vault}/${n}`, version: createHash('sha1').update(vault[n]!).digest('hex').slice(0, 12) })) });
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
