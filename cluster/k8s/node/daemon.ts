/**
 * The node's long-running programs (containerd, the kubelet): started in their own process
 * group with their output appended to a log file (never a pipe, so they outlive the process
 * that started them and `sscsi k8s down` can stop them from another one), and stopped by pid
 * — only after checking /proc/<pid>/cmdline still names the same program and config, so a
 * reused pid is never signalled.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';

export interface Daemon {
  pid: number;
  /** The exit code or signal, once it has exited. */
  exited: Promise<number | string>;
  hasExited(): boolean;
}

export interface DaemonIdentity {
  pid: number;
  /** A word its command line must contain (its config path), checked before any signal. */
  marker: string;
}

export function startDaemon(command: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Daemon {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
    let done = false;
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => {
        done = true;
        resolve(code ?? signal ?? -1);
      });
      child.once('error', () => {
        done = true;
        resolve(-1);
      });
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`${command} could not be started (see ${logFile})`);
    return { pid: child.pid, exited, hasExited: () => done };
  } finally {
    closeSync(fd);
  }
}

async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and is still the program identified by `marker`. */
export async function isSame(d: DaemonIdentity): Promise<boolean> {
  const argv = await cmdline(d.pid);
  if (!argv) return false;
  // A zombie has an empty cmdline: it is gone for our purposes.
  return argv.some((a) => a.includes(d.marker));
}

/** Pids of live processes whose command line has every one of `words` as an argument (or as a `--flag=word` value). */
export async function findProcesses(words: readonly string[]): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const argv = await cmdline(pid);
    if (argv && words.every((w) => argv.includes(w) || argv.some((a) => a.endsWith(`=${w}`)))) found.push(pid);
  }
  return found;
}

async function gone(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await isSame({ pid, marker }))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !(await isSame({ pid, marker }));
}

/**
 * Stops the process: SIGTERM, then SIGKILL if it is still there after `graceMs`. Nothing
 * happens when the pid is gone or belongs to another program. Resolves once it is gone.
 */
export async function stopDaemon(d: DaemonIdentity, graceMs: number): Promise<void> {
  if (!(await isSame(d))) return;
  try {
    process.kill(d.pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await gone(d.pid, d.marker, graceMs)) return;
  try {
    process.kill(d.pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await gone(d.pid, d.marker, 5_000))) throw new Error(`process ${d.pid} (${d.marker}) survived SIGKILL`);
}
