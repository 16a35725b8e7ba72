/**
 * The fetch-and-write path in pieces, each next to its floor — the same work done as bare
 * as Node allows — so every suite is also a ratio to its floor (ratios survive machine
 * drift, absolute times do not):
 *
 *   floor grpc-empty          an empty unary call on a gRPC unix socket (in-process server)
 *   floor mount-umount        raw mount(2) + umount2(2) of a tmpfs through koffi (root only)
 *   floor raw-write NxS       writeFileSync of the same bytes into a fresh directory
 *   provider NxS              Mount through the driver's provider client against the fake
 *                             provider (in-process) — floor: grpc-empty
 *   write tmpfs|dir NxS       validate + atomic write, first write and unchanged rewrite —
 *                             floor: raw-write NxS
 *   fetch-and-write NxS       provider Mount + validate + atomic write, the driver's own code
 *                             path — floor: grpc-empty + raw-write NxS
 *
 * Given another build of the project (`ref`, bench:check's `--against`), the provider, write
 * and fetch-and-write tasks also run with that build's code (its provider client, payload
 * and atomic writer, loaded from its dist/), each task beside ours in the same interleaved
 * rounds, against the same floors and fake provider; those rows carry `driver: 'ref'`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench, type FnOptions } from 'tinybench';
import { buildPayload } from '../../driver/fileutil/payload.js';
import { writeAtomically, writeProviderFiles } from '../../driver/fileutil/atomic-writer.js';
import { mountTmpfs, unmountPath } from '../../driver/mount/tmpfs-mounter.js';
import { ProviderClients, type MountParams } from '../../driver/provider/provider-client.js';
import { startFakeProvider } from '../../fake-providers/fake-provider.js';
import { startEcho } from '../../harness/grpc-echo.js';
import { isRoot, makeTempRoot } from '../../harness/temp-root.js';
import { createLogger } from '../../log/logger.js';
import { runInterleaved } from '../interleave.js';
import type { SuiteResult } from '../report.js';
import { floors, sizeLabel } from '../suite-names.js';

interface MicroOptions {
  quick: boolean;
  /** Another build's root (its dist/ is loaded): its code runs beside ours, task by task. */
  ref?: { root: string; first: boolean };
  log: (line: string) => void;
}

/** The driver code the micro tasks run: ours, or another build's. */
interface WriteCode {
  buildPayload: typeof buildPayload;
  writeAtomically: typeof writeAtomically;
  writeProviderFiles: typeof writeProviderFiles;
  ProviderClients: typeof ProviderClients;
}

const oursCode: WriteCode = { buildPayload, writeAtomically, writeProviderFiles, ProviderClients };

/** Another build's code from its dist/ (the modules this suite calls, by their paths there). */
async function loadCode(buildRoot: string): Promise<WriteCode> {
  const load = (path: string) => import(pathToFileURL(join(buildRoot, 'dist', path)).href) as Promise<Record<string, unknown>>;
  const [payload, writer, provider] = await Promise.all([load('driver/fileutil/payload.js'), load('driver/fileutil/atomic-writer.js'), load('driver/provider/provider-client.js')]);
  const code = { buildPayload: payload.buildPayload, writeAtomically: writer.writeAtomically, writeProviderFiles: writer.writeProviderFiles, ProviderClients: provider.ProviderClients };
  const missing = Object.entries(code).filter(([, v]) => typeof v !== 'function').map(([k]) => k);
  if (missing.length) throw new Error(`the build at ${buildRoot} has no ${missing.join(', ')} where this benchmark calls them: compare against a ref closer to this one`);
  return code as WriteCode;
}

const refPrefix = 'ref: ';


/** A provider Mount request for the objects in `attributes`, as the driver makes it. */
const mountParams = (attributes: string): MountParams => ({ attributes, secrets: '{}', targetPath: '/bench', permission: '420', currentObjectVersion: [], deadline: Date.now() + 30_000 });

export async function runMicroSuites(options: MicroOptions): Promise<SuiteResult[]> {
  const tmp = await makeTempRoot('bench-micro');
  const root = tmp.path;
  const silent = createLogger({ name: 'bench', level: 'silent' });
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const sizes: Array<[number, number]> = options.quick ? [[10, 1024]] : [[1, 1024], [10, 1024], [100, 1024], [1, 65536], [10, 65536], [100, 65536]];
    // Short rounds, interleaved (bench/interleave.ts): each task gets about a second in all.
    // Against another build, twice the rounds, and every other round with that build's tasks
    // first (a second Bench, the same tasks in the other order).
    const rounds = (options.quick ? 8 : 10) * (options.ref ? 2 : 1);
    const benchOptions = { time: options.quick ? 120 : 150, iterations: options.quick ? 30 : 50, warmupTime: 20, warmupIterations: 5, throws: true, retainSamples: true };
    const bench = new Bench(benchOptions);
    const swapped = options.ref ? new Bench(benchOptions) : undefined;
    /** Adds a task to the Bench (and to the swapped one, at the same place). */
    const add = (name: string, fn: () => unknown, opts?: FnOptions) => {
      bench.add(name, fn as () => void, opts);
      swapped?.add(name, fn as () => void, opts);
    };

    // A tmpfs for everything written (when root), so writes measure memory, not a disk.
    const fsDir = join(root, 'fs');
    mkdirSync(fsDir);
    if (isRoot) mountTmpfs(fsDir); // unmounted with everything below the root at the end

    // Floor: the empty gRPC call.
    const echo = await startEcho(join(root, 'echo.sock'));
    cleanups.push(() => echo.close());
    add(floors.grpcEmpty, () => echo.call(), { async: true });

    if (isRoot) {
      const m = join(root, 'mnt');
      mkdirSync(m);
      add(floors.mountUmount, () => {
        mountTmpfs(m);
        unmountPath(m);
      }, { async: false });
    }

    // The fake provider in this process, with every object the sizes need.
    const provDir = join(root, 'providers');
    mkdirSync(provDir);
    const sets = sizes.map(([n, size]) => ({ n, size, objects: Array.from({ length: n }, (_, i) => ({ name: `o${n}x${size}-${i}`, version: '1', contentsBase64: randomBytes(size).toString('base64') })) }));
    const provider = await startFakeProvider({ name: 'fake', socket: join(provDir, 'fake.sock'), objects: sets.flatMap((set) => set.objects), logger: silent });
    cleanups.push(() => provider.close());
    const builds: Array<{ prefix: string; code: WriteCode; clients: ProviderClients }> = [];
    for (const [prefix, code] of [['', oursCode], ...(options.ref ? [[refPrefix, await loadCode(options.ref.root)] as const] : [])] as const) {
      const clients = new code.ProviderClients({ providerVolume: provDir, additionalProviderVolumePaths: [], maxCallRecvMsgSize: 64 * 1024 * 1024, maxInflight: 32, callTimeoutMs: 30_000, logger: silent });
      cleanups.push(() => clients.close());
      builds.push({ prefix, code, clients });
    }
    if (options.ref?.first) builds.reverse();
    /** Adds task `name` once per build (ours, and the ref's prefixed), each with that build's code. */
    const addBuilt = (name: string, fn: (b: (typeof builds)[number]) => () => unknown, opts?: FnOptions) => {
      const fns = builds.map((b) => [`${b.prefix}${name}`, fn(b) as () => void] as const);
      for (const [task, f] of fns) bench.add(task, f, opts);
      for (const [task, f] of [...fns].reverse()) swapped?.add(task, f, opts);
    };

    /** The floors each suite is measured against (their p50s added), by suite name. */
    const floorsOf = new Map<string, string[]>();
    let seq = 0;
    /**
     * A directory below `parent` for one iteration of a task at a time: `fresh` and `drop`
     * are the task's beforeEach and afterEach hooks. Tasks run only inside their hooks; until
     * the first, `path` names a directory that never exists, so a stray call fails instead
     * of writing into the working directory.
     */
    const iterationDir = (parent: string) => {
      const d = {
        path: join(parent, 'no-iteration-prepared-this'),
        fresh: () => {
          d.path = join(parent, `d${seq++}`);
          mkdirSync(d.path);
        },
        drop: () => rmSync(d.path, { recursive: true, force: true }),
      };
      return d;
    };
    for (const { n, size, objects } of sets) {
      const label = sizeLabel(n, size);
      const attributes = JSON.stringify({ objects: objects.map((o) => `- objectName: ${o.name}`).join('\n'), 'csi.storage.k8s.io/pod.name': 'bench' });
      const files = objects.map((o) => ({ path: o.name, mode: 0o644, contents: Buffer.from(o.contentsBase64, 'base64') }));
      const dir = iterationDir(fsDir);

      add(floors.rawWrite(label), () => {
        for (const f of files) writeFileSync(join(dir.path, f.path), f.contents, { mode: 0o644 });
      }, { async: false, beforeEach: dir.fresh, afterEach: dir.drop });
      floorsOf.set(`provider ${label}`, [floors.grpcEmpty]);
      addBuilt(`provider ${label}`, (b) => async () => {
        await b.clients.mount('fake', mountParams(attributes));
      });
      floorsOf.set(`write ${isRoot ? 'tmpfs' : 'dir'} first ${label}`, [floors.rawWrite(label)]);
      addBuilt(`write ${isRoot ? 'tmpfs' : 'dir'} first ${label}`, (b) => () => {
        b.code.writeAtomically(dir.path, b.code.buildPayload(files, 0o644));
      }, { async: false, beforeEach: dir.fresh, afterEach: dir.drop });
      floorsOf.set(`write ${isRoot ? 'tmpfs' : 'dir'} unchanged ${label}`, [floors.rawWrite(label)]);
      addBuilt(`write ${isRoot ? 'tmpfs' : 'dir'} unchanged ${label}`, (b) => {
        const rewriteDir = mkdtempSync(join(fsDir, 'rewrite-'));
        b.code.writeAtomically(rewriteDir, b.code.buildPayload(files, 0o644));
        return () => {
          b.code.writeAtomically(rewriteDir, b.code.buildPayload(files, 0o644));
        };
      }, { async: false });
      if (isRoot) {
        // The plain-directory mode writes to the backing filesystem.
        const ddir = iterationDir(mkdtempSync(join(root, 'disk-')));
        floorsOf.set(`write dir first ${label}`, [floors.rawWrite(label)]);
        add(`write dir first ${label}`, () => {
          writeAtomically(ddir.path, buildPayload(files, 0o644));
        }, { async: false, beforeEach: ddir.fresh, afterEach: ddir.drop });
      }
      floorsOf.set(`fetch-and-write ${label}`, [floors.grpcEmpty, floors.rawWrite(label)]);
      addBuilt(`fetch-and-write ${label}`, (b) => async () => {
        const r = await b.clients.mount('fake', mountParams(attributes));
        b.code.writeProviderFiles(dir.path, r.files, 0o644);
      }, { beforeEach: dir.fresh, afterEach: dir.drop });
    }

    // Warm the gRPC paths before anything is timed: the first calls set up the connection
    // and let the JIT settle, and the floor would otherwise absorb that.
    for (let i = 0; i < 500; i++) await echo.call();
    const warmAttrs = JSON.stringify({ objects: `- objectName: ${sets[0]!.objects[0]!.name}` });
    for (const b of builds) for (let i = 0; i < 300; i++) await b.clients.mount('fake', mountParams(warmAttrs));
    options.log(`micro: ${bench.tasks.length} tasks (${isRoot ? 'tmpfs' : 'no root: plain directories, no mount floor'})`);
    const rows = await runInterleaved(swapped ? [bench, swapped] : bench, { rounds });
    const p50 = (name: string) => rows.get(name)?.p50Ms;
    const floorOf = (name: string): number | undefined => {
      const parts = floorsOf.get(name)?.map(p50);
      return parts?.every((p) => p !== undefined) ? parts.reduce((a, b) => a! + b!, 0) : undefined;
    };
    const rss = process.memoryUsage().rss / 2 ** 20;
    return [...rows.values()].map((r) => {
      const ref = r.name.startsWith(refPrefix);
      const name = ref ? r.name.slice(refPrefix.length) : r.name;
      const floor = floorOf(name);
      return { ...r, name, ...(ref ? { driver: 'ref' as const } : {}), rssMb: rss, floorRatio: floor ? r.p50Ms / floor : null };
    });
  } finally {
    for (const c of cleanups.reverse()) await c();
    await tmp.cleanup();
  }
}
