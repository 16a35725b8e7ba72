/**
 * The lifecycle hooks on their own, with real processes: --provider-cmd started in a group
 * of its own, killed with SIGKILL (the whole group, a shell's child included) and started
 * again; --rotate-cmd counted through SSCSI_ROTATION and its failure reported; and the
 * provider does not outlive a harness that is terminated.
 */
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../harness/free-port.js';
import { root, startCommand, type ManagedProcess } from '../../harness/managed-process.js';
import { createLogger } from '../../log/logger.js';
import { ProviderSession } from '../../provider-proxy/provider-session.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const providerBin = join(root, 'dist', 'fake-providers', 'e2e-style', 'main.js');
const silent = createLogger({ name: 'test', level: 'silent' });
const accepts = (path: string) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
/** Whether something answers HTTP on the port (the provider's rotation server). */
const httpUp = (port: number) => fetch(`http://127.0.0.1:${port}/rotation?rotated=false`).then(() => true, () => false);

let tmp: TempRoot;
const procs: ManagedProcess[] = [];
beforeAll(async () => {
  tmp = await makeTempRoot('provsession');
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await tmp?.cleanup();
});

describe('ProviderSession', () => {
  it('kills the whole process group with SIGKILL and starts the provider again; rotates with SSCSI_ROTATION counted', async () => {
    const socket = join(tmp.path, 'p.sock');
    const port = await freePort();
    // A shell in front of the provider: the kill must reach the node process behind it.
    const session = await ProviderSession.start({
      name: 'p',
      socket,
      proxySocket: join(tmp.path, 'proxy', 'p.sock'),
      providerCmd: `echo starting; '${process.execPath}' '${providerBin}' --socket '${socket}' --port ${port}; echo after`,
      rotateCmd: 'echo "rotation $SSCSI_ROTATION"; [ "$SSCSI_ROTATION" -lt 3 ]',
      logDir: tmp.path,
      logger: silent,
    });
    try {
      expect(await accepts(socket)).toBe(true);
      expect(await accepts(session.proxy.socket)).toBe(true);
      await session.kill();
      expect(await accepts(socket)).toBe(false);
      expect(await httpUp(port)).toBe(false);
      await session.restart();
      expect(await accepts(socket)).toBe(true);
      expect(await httpUp(port)).toBe(true);
      const log = await readFile(session.logFile!, 'utf8');
      expect(log.match(/^starting$/gm)).toHaveLength(2);
      // SIGKILL of the group: the shell never got to its next command.
      expect(log).not.toMatch(/^after$/m);
      expect(await session.rotate()).toBe(1);
      expect(await session.rotate()).toBe(2);
      await expect(session.rotate()).rejects.toThrow(/--rotate-cmd \(rotation 3\) failed: exit 1; its output is in .*rotate\.log/);
      expect(await readFile(join(tmp.path, 'rotate.log'), 'utf8')).toMatch(/--- rotation 1: exit 0\nrotation 1\n[\s\S]*--- rotation 3: exit 1\nrotation 3\n/);
    } finally {
      await session.close();
    }
    expect(await httpUp(port)).toBe(false);
  });

  it('does not let the provider outlive a harness that is terminated', async () => {
    const socket = join(tmp.path, 'q.sock');
    const port = await freePort();
    const script = `
      import { ProviderSession } from ${JSON.stringify(join(root, 'dist', 'provider-proxy', 'provider-session.js'))};
      import { createLogger } from ${JSON.stringify(join(root, 'dist', 'log', 'logger.js'))};
      await ProviderSession.start({ name: 'q', socket: ${JSON.stringify(socket)}, proxySocket: ${JSON.stringify(join(tmp.path, 'proxy', 'q.sock'))},
        providerCmd: ${JSON.stringify(`'${process.execPath}' '${providerBin}' --socket '${socket}' --port ${port}`)}, logDir: ${JSON.stringify(tmp.path)}, logger: createLogger({ name: 'x', level: 'silent' }) });
      console.log('session ready');
      setInterval(() => {}, 1000);
    `;
    const harness = startCommand(process.execPath, ['--input-type=module', '-e', script]);
    procs.push(harness);
    await harness.waitForLine(/session ready/);
    expect(await httpUp(port)).toBe(true);
    await harness.kill('SIGTERM');
    await eventually(async () => !(await httpUp(port)), 'the provider is gone with the harness', 10_000);
  });
});
