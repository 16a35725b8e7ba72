/**
 * etcd for the API server: one member, its data under `<state>/etcd`, client and peer ports
 * on 127.0.0.1 only (plain HTTP: nothing off the machine can reach it). Ready when /health
 * says so.
 */
import { join } from 'node:path';
import { freePort } from '../../../harness/free-port.js';
import { startComponent, type RunningComponent } from './component.js';
import { httpGet } from './https-get.js';

export interface EtcdOptions {
  binary: string;
  stateDir: string;
  logFile: string;
  signal?: AbortSignal;
}

export interface RunningEtcd extends RunningComponent {
  clientUrl: string;
}

export async function startEtcd(options: EtcdOptions): Promise<RunningEtcd> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const component = await startComponent({
    name: 'etcd',
    binary: options.binary,
    args: [
      '--name=sscsi',
      `--data-dir=${join(options.stateDir, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=sscsi=${peerUrl}`,
      '--initial-cluster-state=new',
      // A throwaway single-node test cluster on a shared disk: durability across a power cut
      // is not worth an fsync per write.
      '--unsafe-no-fsync=true',
    ],
    logFile: options.logFile,
    readyTimeoutMs: 60_000,
    ...(options.signal ? { signal: options.signal } : {}),
    ready: async () => {
      const r = await httpGet(`${clientUrl}/health`);
      return r.status === 200 && (JSON.parse(r.body) as { health?: string }).health === 'true';
    },
  });
  return Object.assign(component, { clientUrl });
}
