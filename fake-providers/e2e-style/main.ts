#!/usr/bin/env node
/**
 * e2e-style-provider: a provider written to the conventions of upstream's own e2e provider
 * (sigs.k8s.io/secrets-store-csi-driver/test/e2eprovider, a nested Go module the Go module
 * registry does not serve here), so the bring-your-own-provider scenarios are proven on
 * conventions we did not choose. What it shares with upstream's, written from its documented
 * behaviour (no code of it):
 *
 *   - the `:authority` of every call must be `localhost` (what the driver dials with);
 *     anything else is refused, as upstream's provider refuses it;
 *   - the SPC parameter `objects` is `array:` followed by a YAML list of YAML documents, each
 *     {objectName, objectType: secret|key, objectAlias?}; a secret's content is `secret`
 *     (version v1), `rotated` (version v2) once rotation is switched on; a key is a PEM block;
 *   - files carry the permission the driver sent; the object id is `<objectType>/<objectName>`;
 *   - an HTTP server: `GET /rotation?rotated=true|false` switches rotation, and
 *     `GET /validate-token-requests[?audience=A]` answers 200 only when the last Mount
 *     carried service-account tokens (`csi.storage.k8s.io/serviceAccount.tokens`), for
 *     audience A when given: tokens are checked on demand, not at Mount;
 *   - a Mount without a target path is refused.
 *
 * It removes a stale socket before it listens, as a provider restarted by its DaemonSet does.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { bindUnixSocket, parseUnixEndpoint } from '../../grpc/unix-socket.js';
import { loadProviderProto } from '../../proto/load.js';
import type { MountRequest__Output } from '../../proto/gen/v1alpha1/MountRequest.js';

const usage = 'Usage: e2e-style-provider --endpoint unix:///PATH [--port N (default 8080)]   (--socket PATH is accepted too)\n';
const tokensKey = 'csi.storage.k8s.io/serviceAccount.tokens';
const keyPem = '-----BEGIN PUBLIC KEY-----\nThis is mock key\n-----END PUBLIC KEY-----\n';

interface E2eObject {
  objectName: string;
  objectType: string;
  objectAlias?: string;
}

function parseObjects(raw: string | undefined): E2eObject[] {
  if (!raw || !raw.trimStart().startsWith('array:')) throw new Error('objects must be "array:" followed by a YAML list of objects');
  const docs = parseYaml(raw.trimStart().slice('array:'.length)) as unknown;
  if (!Array.isArray(docs)) throw new Error('objects: array: must be followed by a YAML list');
  return docs.map((d, i) => {
    const o = (typeof d === 'string' ? parseYaml(d) : d) as Partial<E2eObject> | null;
    if (!o?.objectName || !o.objectType) throw new Error(`objects[${i}]: objectName and objectType are required`);
    if (o.objectType !== 'secret' && o.objectType !== 'key') throw new Error(`objects[${i}]: objectType ${o.objectType} is not supported (secret or key)`);
    return o as E2eObject;
  });
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { endpoint: { type: 'string' }, socket: { type: 'string' }, port: { type: 'string', default: '8080' } } }));
  } catch (err) {
    process.stderr.write(`e2e-style-provider: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  let socket: string;
  try {
    // Upstream's flag is --endpoint (default unix:///tmp/e2e-provider.sock).
    socket = values.socket ?? parseUnixEndpoint(values.endpoint ?? 'unix:///tmp/e2e-provider.sock');
  } catch (err) {
    process.stderr.write(`e2e-style-provider: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  const state = { rotated: false, lastTokens: undefined as string | undefined };
  const log = (msg: string, fields: Record<string, unknown> = {}) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
  const authorityOk = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const authority = call.getHost();
    if (authority === 'localhost') return true;
    log('refused a call: unexpected :authority', { authority });
    callback({ code: grpc.status.INVALID_ARGUMENT, details: `unexpected :authority ${JSON.stringify(authority)}, want "localhost"` });
    return false;
  };
  const server = new grpc.Server();
  server.addService(loadProviderProto().v1alpha1.CSIDriverProvider.service, {
    Version: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (authorityOk(call, callback)) callback(null, { version: 'v1alpha1', runtime_name: 'e2e-style-provider', runtime_version: 'v1.3.4' });
    },
    Mount: (call: grpc.ServerUnaryCall<MountRequest__Output, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (!authorityOk(call, callback)) return;
      try {
        const attributes = JSON.parse(call.request.attributes) as Record<string, string>;
        JSON.parse(call.request.secrets || 'null');
        const mode = JSON.parse(call.request.permission) as number;
        if (call.request.target_path === '') throw new Error('missing target path');
        state.lastTokens = attributes[tokensKey];
        const files = [];
        const versions = [];
        for (const o of parseObjects(attributes.objects)) {
          const contents = o.objectType === 'key' ? keyPem : state.rotated ? 'rotated' : 'secret';
          files.push({ path: o.objectAlias || o.objectName, mode, contents: Buffer.from(contents) });
          versions.push({ id: `${o.objectType}/${o.objectName}`, version: o.objectType === 'key' ? 'v1' : state.rotated ? 'v2' : 'v1' });
        }
        log('mount', { pod: attributes['csi.storage.k8s.io/pod.name'], objects: versions });
        callback(null, { files, object_version: versions });
      } catch (err) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `failed to mount: ${(err as Error).message}` });
      }
    },
  });
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://provider');
    if (url.pathname === '/rotation') {
      const rotated = url.searchParams.get('rotated');
      if (rotated !== 'true' && rotated !== 'false') return res.writeHead(400).end('rotated must be true or false\n');
      state.rotated = rotated === 'true';
      log('rotation switched', { rotated: state.rotated });
      return res.writeHead(200).end(`rotated=${state.rotated}\n`);
    }
    if (url.pathname === '/validate-token-requests') {
      if (state.lastTokens === undefined) return res.writeHead(400).end('the last Mount carried no service account tokens\n');
      try {
        const tokens = JSON.parse(state.lastTokens) as Record<string, { token?: string }>;
        if (Object.values(tokens).some((t) => !t?.token)) throw new Error('a token is empty');
        const audience = url.searchParams.get('audience');
        if (audience !== null && !tokens[audience]) throw new Error(`no token for audience ${JSON.stringify(audience)}`);
      } catch (err) {
        return res.writeHead(400).end(`bad tokens: ${(err as Error).message}\n`);
      }
      return res.writeHead(200).end('tokens ok\n');
    }
    res.writeHead(404).end('routes: /rotation?rotated=true|false, /validate-token-requests[?audience=A]\n');
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(Number(values.port), '127.0.0.1', () => resolve());
  });
  // The socket last, so that a socket that answers means the rotation server answers too
  // (the harness waits for the socket after a restart, then may run --rotate-cmd at once).
  // bindUnixSocket removes a stale socket first.
  await bindUnixSocket(server, socket);
  log('serving', { socket, port: values.port });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  http.close();
  server.forceShutdown();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
