/**
 * Child processes of the harness (tests, demo, benchmarks, simulated cluster): our own bins
 * started from dist/ with the Node that runs the harness, waited on by condition (a line on
 * an output stream, a file appearing), and always killed at the end. Output is kept so
 * callers can check what was logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../driver/version.js';

export const root = packageRoot();

export type Bin = 'driver/main.js' | 'fake-providers/main.js' | 'cli/main.js' | 'sidecars/node-driver-registrar/main.js' | 'sidecars/livenessprobe/main.js';

/**
 * The Node options each bin runs with in production, as its first line (`#!/usr/bin/env -S
 * node ...`) and the container entrypoint give them; started from here, a bin gets the same.
 */
export const binNodeOptions: Record<Bin, readonly string[]> = {
  'driver/main.js': ['--max-semi-space-size=2'],
  'fake-providers/main.js': [],
  'cli/main.js': [],
  'sidecars/node-driver-registrar/main.js': [],
  'sidecars/livenessprobe/main.js': [],
};

export interface ManagedProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout/stderr line matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  exited(): Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra Node options placed before the script, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** Keep at most this many characters of each stream (the tail); default 4 MiB. */
  keepChars?: number;
  /** Also append everything the process writes to this file. */
  logFile?: string;
}

/**
 * The last `keep` characters of a stream. Chunks are kept as they come and cut down only when
 * they hold twice `keep`, or when read: cutting a full buffer on every chunk copied `keep`
 * characters per chunk, which a chatty process (a provider logging each Mount in a benchmark)
 * turned into several percent of the harness's CPU.
 */
export class StreamTail {
  private chunks: string[] = [];
  private length = 0;

  constructor(private readonly keep: number) {}

  push(s: string): void {
    this.chunks.push(s);
    this.length += s.length;
    if (this.length > 2 * this.keep) this.compact();
  }

  text(): string {
    this.compact();
    return this.chunks[0] ?? '';
  }

  private compact(): void {
    if (this.chunks.length <= 1 && this.length <= this.keep) return;
    let all = this.chunks.join('');
    if (all.length > this.keep) all = all.slice(all.length - this.keep);
    this.chunks = [all];
    this.length = all.length;
  }
}

export function startBin(bin: Bin, args: string[], options: StartOptions = {}): ManagedProcess {
  return startCommand(process.execPath, [...binNodeOptions[bin], ...(options.nodeArgs ?? []), join(root, 'dist', bin), ...args], options);
}

/** Any executable (e.g. another driver build under test), managed the same way; `nodeArgs` do not apply. */
export function startCommand(command: string, args: string[], options: StartOptions = {}): ManagedProcess {
  const keep = options.keepChars ?? 4 * 1024 * 1024;
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = new StreamTail(keep);
  const err = new StreamTail(keep);
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  if (log) {
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('exit', () => setImmediate(() => log.end()));
  }
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out.push(d.toString());
    [...waiters].forEach((w) => w());
  });
  child.stderr!.on('data', (d: Buffer) => {
    err.push(d.toString());
    [...waiters].forEach((w) => w());
  });
  const exit = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    // A command that cannot be started (ENOENT, EACCES) never exits: it errors.
    child.once('error', (e) => {
      err.push(`${e.message}\n`);
      resolve(-1);
    });
  });
  return {
    child,
    stdout: () => out.text(),
    stderr: () => err.text(),
    waitForLine(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = `${out.text()}\n${err.text()}`.split('\n').find((l) => re.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stdout:\n${out.text()}\nstderr:\n${err.text()}`));
        }, timeoutMs);
        waiters.push(check);
        void exit.then((code) => {
          if (waiters.includes(check)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            reject(new Error(`process exited (${code}) before a line matching ${re}; stdout:\n${out.text()}\nstderr:\n${err.text()}`));
          }
        });
        check();
      });
    },
    exited: () => exit,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
}

export async function waitForFile(path: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await access(path);
      return;
    } catch {
      if (Date.now() > until) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Resident set size of a process in bytes, from /proc/PID/status (VmRSS); undefined if gone. */
export async function rssBytes(pid: number): Promise<number | undefined> {
  return (await statusBytes(pid, ['VmRSS']))?.VmRSS;
}

/** Fields of /proc/PID/status given in kB, in bytes; undefined once the process is gone or a field is missing. */
async function statusBytes<F extends string>(pid: number, fields: readonly F[]): Promise<Record<F, number> | undefined> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const out = {} as Record<F, number>;
  for (const f of fields) {
    const m = new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) return undefined;
    out[f] = Number(m[1]) * 1024;
  }
  return out;
}

/**
 * A process's resident set split as /proc/PID/status splits it: `anon`, the memory the
 * process itself allocated (heaps, stacks), and `file`, pages of files it maps — mostly its
 * executable's and libraries' code and data, shared with every process that maps the same
 * file and reclaimable by the kernel. Undefined once the process is gone.
 */
export async function rssParts(pid: number): Promise<{ anon: number; file: number } | undefined> {
  const b = await statusBytes(pid, ['RssAnon', 'RssFile']);
  return b && { anon: b.RssAnon, file: b.RssFile };
}

/**
 * Samples a resident set size every `everyMs` ms and keeps the largest reading: `read` is
 * e.g. `() => rssBytes(pid)` or a cluster component's `rssBytes()` (undefined readings are
 * skipped). `stop()` ends the sampling and returns the peak in bytes (0 without a reading).
 */
export function samplePeakRss(read: () => Promise<number | undefined>, everyMs: number): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    void read().then((r) => {
      if (r !== undefined) peak = Math.max(peak, r);
    });
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/**
 * Our fake provider as its own process (`fake-provider` with JSON logs), returned once it
 * printed its ready line; with `control`, its control API on a free loopback port. Killed
 * again if it never gets ready.
 */
export async function startFakeProviderBin(options: { name: string; socket: string; store?: string; control?: boolean }): Promise<{ proc: ManagedProcess; control: string | null }> {
  const args = ['--name', options.name, '--socket', options.socket, ...(options.store ? ['--store', options.store] : []), ...(options.control ? ['--control-addr', '127.0.0.1:0'] : []), '--log-format-json'];
  const proc = startBin('fake-providers/main.js', args);
  try {
    const ready = JSON.parse(await proc.waitForLine(/^\{"ready":true/, 30_000)) as { control: string | null };
    return { proc, control: ready.control };
  } catch (err) {
    await proc.kill('SIGKILL');
    throw err;
  }
}
