/**
 * The embedded API server on a thread of its own, for a benchmark whose driver runs in the
 * benchmark's own process (bench/suites/rotation.ts): kube-apiserver is never on the
 * driver's event loop, and an API server served from the same thread would put its request
 * handling — as much of that thread as the driver's refetch path in a profile of a rotation
 * pass — into every figure of the driver. The thread is a worker_threads Worker running
 * this module; the benchmark reaches it through `ApiServerThread` (create objects, add an
 * identity, write a kubeconfig, stop), the driver through HTTPS as everywhere else.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { UserInfo } from '../sim/apiserver/authorizer.js';
import type { KubeObject } from '../sim/apiserver/object-store.js';

type Request =
  | { op: 'create'; resource: string; objects: KubeObject[] }
  | { op: 'addIdentity'; user: UserInfo }
  | { op: 'writeKubeconfig'; path: string; options: { token?: string; user?: string } }
  | { op: 'stop' };

/** What marks the thread this module serves from (it is imported by the benchmark too). */
const role = 'sscsi-bench-api-server';

type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string };

/** The benchmark's handle on the API server thread. */
export interface ApiServerThread {
  url: string;
  /** Creates `objects` of `resource` (plural) in the store, as the API server's own bootstrap would. */
  create(resource: string, objects: KubeObject[]): Promise<void>;
  addIdentity(user: UserInfo): Promise<string>;
  writeKubeconfig(path: string, options?: { token?: string; user?: string }): Promise<void>;
  /** Stops the server and ends the thread. */
  stop(): Promise<void>;
}

export async function startApiServerThread(options: { controlPlane?: boolean } = {}): Promise<ApiServerThread> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role, controlPlane: options.controlPlane ?? false } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let exited: Error | undefined;
  const failAll = (err: Error) => {
    exited = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', (err) => failAll(new Error(`the API server thread failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => failAll(new Error(`the API server thread exited (code ${code})`)));
  worker.on('message', (m: Reply | { ready: string }) => {
    if ('ready' in m) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(new Error(m.error));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onMessage = (m: Reply | { ready: string }) => {
      if ('ready' in m) {
        worker.off('message', onMessage);
        resolve(m.ready);
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the API server thread exited before serving (code ${code})`)));
  });
  const call = (req: Request) =>
    new Promise<unknown>((resolve, reject) => {
      if (exited) return reject(exited);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...req });
    });
  return {
    url,
    create: async (resource, objects) => void (await call({ op: 'create', resource, objects })),
    addIdentity: async (user) => (await call({ op: 'addIdentity', user })) as string,
    writeKubeconfig: async (path, o = {}) => void (await call({ op: 'writeKubeconfig', path, options: o })),
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      await call({ op: 'stop' }).catch(() => undefined);
      await done;
    },
  };
}

/** The thread's side: the server, and the benchmark's requests answered in order. */
async function serve(controlPlane: boolean): Promise<void> {
  const { SimApiServer } = await import('../sim/apiserver/api-server.js');
  const api = await new SimApiServer({ controlPlane }).start();
  const port = parentPort!;
  port.on('message', async (m: Request & { id: number }) => {
    try {
      let value: unknown;
      switch (m.op) {
        case 'create':
          for (const o of m.objects) api.store.create(m.resource, o);
          break;
        case 'addIdentity':
          value = api.addIdentity(m.user);
          break;
        case 'writeKubeconfig':
          await api.writeKubeconfig(m.path, m.options);
          break;
        case 'stop':
          await api.stop();
          port.postMessage({ id: m.id, ok: true });
          // Ends this thread only (a worker's process.exit), whatever handle is left.
          process.exit(0);
      }
      port.postMessage({ id: m.id, ok: true, value });
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, error: (err as Error).message });
    }
  });
  port.postMessage({ ready: api.url });
}

const data = workerData as { role?: string; controlPlane?: boolean } | null;
if (parentPort && data?.role === role) void serve(data.controlPlane ?? false);
