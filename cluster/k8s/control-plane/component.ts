/**
 * One control-plane component as a managed child process: started from its binary with its
 * output appended to `<state>/logs/<name>.log`, ready when its readiness check says so
 * (polled; never a fixed sleep), stopped with SIGTERM then SIGKILL. A component that exits or
 * is not ready in time fails with an error naming it, its log file and the log's last lines.
 */
import { readFile } from 'node:fs/promises';
import { startCommand, type ManagedProcess } from '../../../harness/managed-process.js';

export interface ComponentSpec {
  name: string;
  binary: string;
  args: string[];
  logFile: string;
  /** True once the component serves; an error or false means "not yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Aborting (Ctrl-C during `k8s up`) stops the wait and the process. */
  signal?: AbortSignal;
}

export interface RunningComponent {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly binary: string;
  readonly process: ManagedProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** A step that failed: which component, where its log is, and what the log said last. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    readonly logFile: string,
    readonly reason: string,
    readonly logTail: string,
  ) {
    super(`${component} ${reason}; log ${logFile}, last lines:\n${logTail || '(empty)'}`);
    this.name = 'ComponentError';
  }
}

export async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function stopProcess(proc: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const killer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.kill('SIGTERM');
  clearTimeout(killer);
}

export async function startComponent(spec: ComponentSpec): Promise<RunningComponent> {
  const proc = startCommand(spec.binary, spec.args, { logFile: spec.logFile, keepChars: 64 * 1024, ...(spec.env ? { env: spec.env } : {}) });
  const fail = async (reason: string): Promise<never> => {
    await stopProcess(proc, 3000);
    throw new ComponentError(spec.name, spec.logFile, reason, await logTail(spec.logFile));
  };
  let exited: number | string | undefined;
  void proc.exited().then((code) => (exited = code));
  const deadline = Date.now() + spec.readyTimeoutMs;
  for (;;) {
    if (exited !== undefined) return fail(`exited (${exited}) before it was ready`);
    if (spec.signal?.aborted) return fail('was interrupted before it was ready');
    if (await spec.ready().catch(() => false)) break;
    if (Date.now() > deadline) return fail(`was not ready within ${spec.readyTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name: spec.name,
    pid: proc.child.pid!,
    logFile: spec.logFile,
    binary: spec.binary,
    process: proc,
    stop: (graceMs) => stopProcess(proc, graceMs),
  };
}
