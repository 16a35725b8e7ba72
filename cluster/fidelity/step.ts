/**
 * One thing a user or a client does against a cluster, run the same way on the sim and on a
 * real kube-apiserver and compared: a kubectl command line (with optional stdin) or a
 * @kubernetes/client-node call. `@repo/` in an argument is this checkout's root.
 */
import type { KubeConfig } from '@kubernetes/client-node';

export type StepSource = 'README' | 'upstream docs' | 'upstream e2e' | 'issue 19' | 'client';

export interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Polled on each side before the step runs (a controller's asynchronous work), never a sleep. */
export interface Precondition {
  what: string;
  kubectl: string[];
  ok: (o: Outcome) => boolean;
  timeoutMs?: number;
}

interface StepBase {
  /** Stable and unique: the allow-list names steps by it. */
  id: string;
  from: StepSource;
  /** How stdout is read: objects are parsed and compared field by field. Default text. */
  output?: 'text' | 'json' | 'yaml';
  /** A Deployment's names whose ReplicaSets and Pods get generated names (normalise.ts). */
  generatedNames?: readonly string[];
  /** Paths dropped from the object before comparing, each with why (server-specific, documented). */
  ignore?: ReadonlyArray<{ path: string; why: string }>;
  before?: Precondition;
}

export interface KubectlStep extends StepBase {
  kubectl: string[];
  stdin?: string;
}

export interface ClientStep extends StepBase {
  /** What the call is, for the table. */
  client: string;
  /** The call; its answer is the step's stdout (JSON). An ApiException becomes exit code = HTTP status, stdout = its body. */
  run: (kc: KubeConfig) => Promise<unknown>;
}

export type Step = KubectlStep | ClientStep;

export const isKubectl = (s: Step): s is KubectlStep => 'kubectl' in s;

/** How the step reads in the table. */
export function stepTitle(s: Step): string {
  return isKubectl(s) ? `kubectl ${s.kubectl.map((a) => (/[\s{}"'$]/.test(a) ? `'${a}'` : a)).join(' ')}${s.stdin ? ' <<yaml' : ''}` : `client-node: ${s.client}`;
}
