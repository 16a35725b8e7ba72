/**
 * provider-outage: kill -9 the provider while pods are mounted (and rotating) and others
 * are being created. New pods stay Pending (with ours, at once with FailedMount events naming
 * the provider); mounted pods keep their files, and a reader polling them the whole time
 * never sees a partial set; once the provider is back every pending pod runs (with ours,
 * within two kubelet backoff periods).
 */
import type { PodRef } from '../cluster/cluster.js';
import { exampleObjects, isRunning, podManifest, putObject, ref, spcManifest } from './fixtures.js';
import type { Scenario, StepContext } from './scenario.js';

const backoffMaxMs = 4000;
const objects = exampleObjects();
const files = ['db-password', 'api-key', 'db-username', 'config.json'];
const mounted = ['steady-0', 'steady-1', 'steady-2'];
const pending = ['late-0', 'late-1', 'late-2'];

interface Reader {
  stop(): Promise<{ reads: number; partial: string[] }>;
}

/** Reads every file of every mounted pod in a loop; a set with a missing or foreign file is partial. */
function startReader(ctx: StepContext, pods: PodRef[], allowed: Map<string, Set<string>>): Reader {
  let running = true;
  let reads = 0;
  const partial: string[] = [];
  const loop = (async () => {
    while (running) {
      for (const pod of pods) {
        const seen: string[] = [];
        for (const f of files) {
          try {
            const content = (await ctx.cluster.readFile(pod, 'secrets', f)).toString();
            if (!allowed.get(f)!.has(content)) seen.push(`${f}: unexpected content`);
          } catch (err) {
            seen.push(`${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
        }
        reads++;
        if (seen.length > 0 && partial.length < 20) partial.push(`${pod.name}: ${seen.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { reads, partial };
    },
  };
}

let reader: Reader | undefined;
let recoveryMs = 0;

export const providerOutageScenario: Scenario = {
  name: 'provider-outage',
  title: 'kill -9 the provider: pending pods wait with FailedMount, mounted pods keep whole files, all recover',
  cluster: { driverArgs: ['--enable-secret-rotation', '--rotation-poll-interval=1s'], kubeletTimings: { backoffInitialMs: 500, backoffMaxMs, republishPeriodMs: 1000 } },
  async cleanup() {
    await reader?.stop();
    reader = undefined;
  },
  steps: [
    {
      name: `${mounted.length} pods are mounted and a reader polls their files`,
      async run(ctx) {
        await ctx.cluster.apply(spcManifest(ctx.namespace, 'all', files.map((objectName) => ({ objectName }))));
        for (const name of mounted) await ctx.cluster.apply(podManifest(ctx.namespace, name, [{ name: 'secrets', spc: 'all' }]));
        for (const name of mounted) await ctx.cluster.waitForPod(ref(ctx.namespace, name), 'Running', 30_000);
        // Rotation is on: change one object so the outage hits volumes that are being rotated.
        const allowed = new Map(files.map((f) => [f, new Set([objects.get(f)!])]));
        allowed.get('db-password')!.add('outage-password');
        await putObject(ctx.cluster, 'db-password', 'outage-password');
        reader = startReader(ctx, mounted.map((n) => ref(ctx.namespace, n)), allowed);
      },
    },
    {
      name: 'kill -9 the provider; new pods stay Pending, mounted pods keep their files',
      async run(ctx) {
        const provider = ctx.cluster.providers('fake')[0]!;
        await provider.kill();
        for (const name of pending) await ctx.cluster.apply(podManifest(ctx.namespace, name, [{ name: 'secrets', spc: 'all' }]));
        // An observation window: the pods must not run while the provider is down, and the
        // mounted pods keep their files (and their rotations fail).
        await new Promise((r) => setTimeout(r, 3000));
        for (const name of pending) {
          const p = await ctx.cluster.get({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, name });
          await ctx.check(!!p && !isRunning(p), `${name} is not Running`, { seen: (p?.status as { phase?: string })?.phase, pod: ref(ctx.namespace, name) });
        }
        for (const name of mounted) {
          const content = await ctx.cluster.readFile(ref(ctx.namespace, name), 'secrets', 'db-username').then((b) => b.toString(), (e: NodeJS.ErrnoException) => `(${e.code ?? e.message})`);
          await ctx.check(content === objects.get('db-username'), `${name} still reads its files during the outage`, { expected: 'the db-username object', seen: content === objects.get('db-username') ? 'it' : content, pod: ref(ctx.namespace, name) });
        }
      },
    },
    {
      name: 'their FailedMount events name the provider',
      beyondUpstream:
        "a mount while the provider is down fails at once with a FailedMount naming the provider (upstream's provider client waits for the provider, gRPC waitForReady, until the kubelet's deadline of 2 minutes, and the event then says DeadlineExceeded)",
      async run(ctx) {
        for (const name of pending) {
          const pod = ref(ctx.namespace, name);
          const ev = await ctx.eventually(async () => (await ctx.cluster.events(ctx.namespace, name)).find((e) => e.reason === 'FailedMount'), `FailedMount on ${name}`, 20_000, { pod });
          await ctx.check(/provider "fake"/.test(String(ev.message)), `the event on ${name} names the provider`, { expected: 'provider "fake" ...', seen: ev.message });
        }
      },
    },
    {
      name: 'the provider is back: every pending pod runs',
      async run(ctx) {
        const provider = ctx.cluster.providers('fake')[0]!;
        const t = Date.now();
        await provider.start();
        await ctx.eventually(async () => {
          const pods = await Promise.all(pending.map((n) => ctx.cluster.get({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, name: n })));
          return pods.every((p) => p && isRunning(p));
        }, 'all pending pods Running', 60_000, { pod: ref(ctx.namespace, pending[0]!) });
        recoveryMs = Date.now() - t;
        ctx.figures.recoveryMs = recoveryMs;
      },
    },
    {
      name: `they ran within two kubelet backoff periods (${2 * backoffMaxMs} ms)`,
      beyondUpstream: "recovery bound by the kubelet's backoff alone, since every failed mount returned at once (upstream's waiting calls resume on gRPC's reconnect backoff, which grows during the outage)",
      async run(ctx) {
        await ctx.check(recoveryMs <= 2 * backoffMaxMs + 1000, `recovered within two kubelet backoff periods (${2 * backoffMaxMs} ms)`, { expected: `<= ${2 * backoffMaxMs} ms`, seen: `${recoveryMs} ms` });
      },
    },
    {
      name: 'the reader never saw a partial set',
      async run(ctx) {
        const r = await reader!.stop();
        ctx.figures.reads = r.reads;
        await ctx.check(r.partial.length === 0, 'every read of a mounted volume saw the whole set', { expected: [], seen: r.partial });
        await ctx.check(r.reads > 50, 'the reader was reading throughout', { expected: '> 50 reads', seen: r.reads });
      },
    },
  ],
};
