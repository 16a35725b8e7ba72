/**
 * The container images, built for real where a Docker engine runs (CI starts one; see
 * .ci/run) by test/helpers/image-setup.ts: a Node 24 base made from this machine's Node
 * (nothing can be pulled here), the staged context, both Dockerfiles with that BASE_IMAGE.
 * Then the containers do their jobs:
 * the driver answers --version, and the fake provider, unprivileged and with no network,
 * serves its socket on a shared directory where the driver's provider client on the host
 * mounts objects through it; our sidecars, in the driver DaemonSet's shape (the driver's
 * socket and the kubelet's plugins_registry mounted in), register the driver with a kubelet
 * on the host and answer its probes. Without an engine the suite is skipped, saying why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { access, chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ProviderClients } from '../../driver/provider/provider-client.js';
import { waitForFile, root } from '../../harness/managed-process.js';
import { driverImage, fakeProviderImage, livenessProbeImage, registrarImage } from '../../kind/bootstrap/images.js';
import { freePort } from '../../harness/free-port.js';
import type { ManagedProcess } from '../../harness/managed-process.js';
import { parseAllDocuments } from 'yaml';
import { eventually } from '../helpers/eventually.js';
import { get, kubeletRegistrationClient, startDriver } from '../sidecars/sidecar-env.js';
import { createLogger } from '../../log/logger.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const outcome = inject('images');
if (!outcome.engine) console.warn(`images.test: skipped — ${outcome.error} (CI starts one; see .ci/run)`);

let tmp: TempRoot;
const containers: string[] = [];
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe.skipIf(!outcome.engine)(`container images (Docker engine ${outcome.engine || 'absent'})`, () => {
  beforeAll(async () => {
    tmp = await makeTempRoot('images');
  });

  it('both images build FROM a base made from this machine\'s Node (test/helpers/image-setup.ts built them)', () => {
    expect(outcome.error).toBeNull();
    expect(docker('image', 'inspect', outcome.baseImage, '--format', '{{.Os}}/{{.Architecture}}')).toBe('linux/amd64');
  });
  afterAll(async () => {
    for (const c of containers) {
      try {
        docker('rm', '-f', c);
      } catch {
        // already gone
      }
    }
    await tmp?.cleanup();
  });

  it('the driver image runs the driver, as root, with its Node options', async () => {
    const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(docker('run', '--rm', '--network', 'none', driverImage, '--version')).toBe(`secrets-store-csi-driver ${version} (node ${process.version})`);
    const config = JSON.parse(docker('image', 'inspect', driverImage, '--format', '{{json .Config}}')) as { User: string; Entrypoint: string[] };
    expect(config.User).toBe('0:0');
    expect(config.Entrypoint).toEqual(['node', '--max-semi-space-size=2', '/opt/secrets-store-csi-ts/dist/driver/main.js']);
  });

  it('the fake provider runs unprivileged with no network and serves Mount across the container boundary', async () => {
    const dir = join(tmp.path, 'providers');
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o1777); // as the DaemonSet's init container leaves the providers dir
    const name = `sscsi-fake-${process.pid}`;
    containers.push(name);
    docker('run', '-d', '--name', name, '--network', 'none', '-v', `${dir}:/providers`, fakeProviderImage, '--name', 'fake', '--socket', '/providers/fake.sock');
    await waitForFile(join(dir, 'fake.sock'), 30_000);
    expect(docker('exec', name, 'node', '-e', 'process.stdout.write(String(process.getuid()))')).toBe('1000');
    const clients = new ProviderClients({ providerVolume: dir, additionalProviderVolumePaths: [], maxCallRecvMsgSize: 4 << 20, maxInflight: 4, callTimeoutMs: 10_000, logger: createLogger({ name: 't', level: 'silent' }) });
    try {
      expect((await clients.version('fake', 10_000)).runtime_name).toBeTruthy();
      const r = await clients.mount('fake', { attributes: JSON.stringify({ objects: '- objectName: db-password' }), secrets: '{}', targetPath: '/t', permission: '420', currentObjectVersion: [], deadline: Date.now() + 10_000 });
      expect(r.objectVersions).toEqual([{ id: 'db-password', version: '1' }]);
      expect(Buffer.from(r.files[0]!.contents).toString()).toBe('correct-horse-battery-staple');
    } finally {
      clients.close();
    }
  });

  /** The registrar container of kind/manifests/secrets-store-csi-driver.yaml: its args and its exec liveness probe. */
  async function registrarContainer(): Promise<{ args: string[]; livenessProbe: { exec: { command: string[] } } }> {
    for (const doc of parseAllDocuments(await readFile(join(root, 'kind/manifests/secrets-store-csi-driver.yaml'), 'utf8'))) {
      const ds = doc.toJS() as { spec: { template: { spec: { containers: { name: string; args: string[]; livenessProbe: { exec: { command: string[] } } }[] } } } };
      const c = ds.spec.template.spec.containers.find((x) => x.name === 'node-driver-registrar');
      if (c) return c;
    }
    throw new Error('no node-driver-registrar container in the driver DaemonSet');
  }

  it('the sidecar images run ours as root, at the paths upstream\'s images keep their binaries', () => {
    for (const [image, entrypoint] of [
      [registrarImage, '/csi-node-driver-registrar'],
      [livenessProbeImage, '/livenessprobe'],
    ] as const) {
      const config = JSON.parse(docker('image', 'inspect', image, '--format', '{{json .Config}}')) as { User: string; Entrypoint: string[] };
      expect(config).toMatchObject({ User: '0:0', Entrypoint: [entrypoint] });
    }
    expect(docker('run', '--rm', '--network', 'none', registrarImage, '--version')).toMatch(/^csi-node-driver-registrar \d+\.\d+\.\d+/);
  });

  describe('our sidecars beside our driver on the host, in the DaemonSet\'s shape', () => {
    let driver: ManagedProcess | undefined;
    let plugin: string;

    beforeAll(async () => {
      // The driver's socket where the DaemonSet's plugin-dir hostPath puts it.
      plugin = join(tmp.path, 'plugins', 'csi-secrets-store');
      driver = await startDriver(tmp.path, join(plugin, 'csi.sock'));
    });

    afterAll(async () => {
      await driver?.kill('SIGKILL');
    });

    it('the registrar, in the DaemonSet\'s shape, registers the driver with a kubelet on the host; its exec probe passes; SIGTERM removes its socket', async () => {
      const registry = join(tmp.path, 'plugins_registry');
      await mkdir(registry, { recursive: true });
      const { args, livenessProbe } = await registrarContainer();
      const name = `sscsi-registrar-${process.pid}`;
      containers.push(name);
      docker('run', '-d', '--name', name, '--network', 'none', '-v', `${plugin}:/csi`, '-v', `${registry}:/registration`, registrarImage, ...args);
      const regSocket = join(registry, 'secrets-store.csi.k8s.io-reg.sock');
      await waitForFile(regSocket, 30_000);
      const kubelet = kubeletRegistrationClient(regSocket);
      try {
        expect(await kubelet.getInfo()).toEqual({
          type: 'CSIPlugin',
          name: 'secrets-store.csi.k8s.io',
          endpoint: '/var/lib/kubelet/plugins/csi-secrets-store/csi.sock',
          supported_versions: ['1.0.0'],
        });
        await kubelet.notify({ plugin_registered: true, error: '' });
      } finally {
        kubelet.close();
      }
      // The manifest's own exec probe command, run in the container as the kubelet runs it.
      expect(() => docker('exec', name, ...livenessProbe.exec.command)).not.toThrow();
      docker('stop', '-t', '10', name);
      const logs = spawnSync('docker', ['logs', name], { encoding: 'utf8' });
      expect(docker('inspect', name, '--format', '{{.State.ExitCode}}'), `${logs.stdout}${logs.stderr}`).toBe('0');
      await expect(access(regSocket)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('the liveness probe container answers /healthz from the driver\'s socket', async () => {
      const port = await freePort();
      const name = `sscsi-livenessprobe-${process.pid}`;
      containers.push(name);
      // Host network, as the k8s target runs the driver pod: the probe's port is the node's.
      docker('run', '-d', '--name', name, '--network', 'host', '-v', `${plugin}:/csi`, livenessProbeImage, '--csi-address=/csi/csi.sock', '--probe-timeout=3s', `--http-endpoint=127.0.0.1:${port}`);
      expect(await eventually(() => get(`http://127.0.0.1:${port}/healthz`).then((r) => (r.status === 200 ? r : undefined)), 'the probe container\'s /healthz', 30_000)).toEqual({ status: 200, body: 'ok' });
    });
  });
});
