/**
 * Child processes for tests: started from the compiled bins with the Node that runs the
 * tests, waited on by condition (a line on an output stream, a file appearing), killed at
 * the end whatever happened. Output is kept so tests can check what was logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../driver/version.js';

export const root = packageRoot();

export interface TestProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout/stderr line matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  exited(): Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export function startBin(bin: 'driver/main.js' | 'fake-providers/main.js' | 'cli/main.js', args: string[], env: NodeJS.ProcessEnv = {}): TestProcess {
  const child = spawn(process.execPath, [join(root, 'dist', bin), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    waiters.forEach((w) => w());
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    waiters.forEach((w) => w());
  });
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForLine(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = `${out}\n${err}`.split('\n').find((l) => re.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve(line);
          }
        };
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        waiters.push(check);
        void exit.then((code) => {
          if (waiters.includes(check)) {
            clearTimeout(timer);
            reject(new Error(`process exited (${code}) before a line matching ${re}; stdout:\n${out}\nstderr:\n${err}`));
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
