/**
 * What the sidecar tests share: our driver as its own process on a socket in a temp dir
 * (the CSI socket both sidecars dial), the kubelet's plugin-registration client, and a GET
 * that returns status and body.
 */
import * as grpc from '@grpc/grpc-js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { loadPluginRegistrationProto } from '../../proto/load.js';
import type { PluginInfo__Output } from '../../proto/gen/pluginregistration/PluginInfo.js';
import type { RegistrationStatus } from '../../proto/gen/pluginregistration/RegistrationStatus.js';

/** Starts our driver serving `socket` (no provider, an API server that is never reached: Identity needs neither). */
export async function startDriver(dir: string, socket: string): Promise<ManagedProcess> {
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
  );
  const driver = startBin('driver/main.js', [`--endpoint=unix://${socket}`, '--nodeid=node-1', `--kubeconfig=${kubeconfig}`, `--provider-volume=${join(dir, 'providers')}`, `--additional-provider-volume-paths=${join(dir, 'providers')}-none`, '--metrics-addr=127.0.0.1:0']);
  await driver.waitForLine(/CSI driver serving/);
  return driver;
}

/** The kubelet's plugin watcher, as it talks to a registration socket. */
export function kubeletRegistrationClient(socketPath: string) {
  const { pluginregistration } = loadPluginRegistrationProto();
  const client = new pluginregistration.Registration(`unix://${socketPath}`, grpc.credentials.createInsecure());
  const deadline = () => ({ deadline: Date.now() + 10_000 });
  return {
    getInfo: () => new Promise<PluginInfo__Output>((resolve, reject) => client.GetInfo({}, deadline(), (err, res) => (err ? reject(err) : resolve(res!)))),
    notify: (status: RegistrationStatus) =>
      new Promise<object>((resolve, reject) => client.NotifyRegistrationStatus(status, deadline(), (err, res) => (err ? reject(err) : resolve(res!)))),
    close: () => client.close(),
  };
}

export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** The URL a sidecar logged it serves on (`url="http://127.0.0.1:PORT"` in its text log line). */
export async function servingUrl(p: ManagedProcess, line: RegExp): Promise<string> {
  const l = await p.waitForLine(line);
  const m = /url="([^"]+)"/.exec(l);
  if (!m) throw new Error(`no url in ${JSON.stringify(l)}`);
  return m[1]!;
}
