/**
 * The container images, built for real where a Docker engine runs (CI starts one; see
 * .ci/run) by test/helpers/image-setup.ts: a Node 24 base made from this machine's Node
 * (nothing can be pulled here), the staged context, both Dockerfiles with that BASE_IMAGE.
 * Then the containers do their jobs:
 * the driver answers --version, and the fake provider, unprivileged and with no network,
 * serves its socket on a shared directory where the driver's provider client on the host
 * mounts objects through it. Without an engine the suite is skipped, saying why.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ProviderClients } from '../../driver/provider/provider-client.js';
import { waitForFile, root } from '../../harness/managed-process.js';
import { driverImage, fakeProviderImage } from '../../kind/bootstrap/images.js';
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
});
