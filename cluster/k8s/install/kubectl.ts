/**
 * The boundary to kubectl for the install: one admin kubeconfig, objects applied as JSON on
 * stdin, waits that kubectl itself does (`wait`, `rollout status`). A failed command is an
 * error quoting kubectl's last lines.
 */
import { execa } from 'execa';
import type { Manifest } from './manifests.js';

export interface Kubectl {
  run(args: readonly string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Runs and throws on a non-zero exit. */
  ok(args: readonly string[], input?: string): Promise<string>;
  apply(docs: readonly Manifest[]): Promise<string>;
  json<T>(args: readonly string[]): Promise<T>;
}

/** `signal` (Ctrl-C on `k8s up`) ends a running kubectl (a `rollout status` wait, say) at once. */
export function kubectl(binary: string, kubeconfig: string, signal?: AbortSignal): Kubectl {
  const run: Kubectl['run'] = async (args, input) => {
    const r = await execa(binary, ['--kubeconfig', kubeconfig, ...args], { reject: false, ...(signal ? { cancelSignal: signal } : {}), ...(input !== undefined ? { input } : { stdin: 'ignore' }) });
    if (r.isCanceled) throw new Error(`interrupted: kubectl ${args.slice(0, 3).join(' ')}`);
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const ok: Kubectl['ok'] = async (args, input) => {
    const r = await run(args, input);
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} exited with ${r.exitCode}: ${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-10).join('\n')}`);
    return r.stdout;
  };
  return {
    run,
    ok,
    // JSON, not YAML: kubectl reads YAML 1.1, where a plain `off` written by a YAML 1.2
    // serializer (the fake provider's node-label value) would turn into a boolean.
    apply: (docs) => ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs })),
    json: async <T>(args: readonly string[]) => JSON.parse(await ok([...args, '-o', 'json'])) as T,
  };
}
