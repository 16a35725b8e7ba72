/**
 * An external provider for the length of a scenario run (`sscsi scenarios run --provider
 * NAME=SOCKET --spc FILE`): the fault proxy in front of the author's socket (what the
 * simulated nodes link as `<name>.sock`) and, with the lifecycle hooks,
 *
 *   --provider-cmd COMMAND  the harness starts the provider itself (`sh -c`, in a process
 *                           group of its own, output in `<logDir>/provider-<name>.log`),
 *                           waits until its socket accepts connections, and can kill -9 it
 *                           (the whole group) and start it again — a real outage;
 *   --rotate-cmd COMMAND    changes an object's content in the author's backend (`sh -c`,
 *                           with SSCSI_ROTATION=1, 2, … counting the calls, so a command can
 *                           alternate between two contents; output in `<logDir>/rotate.log`).
 *
 * Without --provider-cmd the process is the author's: the session never signals it, and an
 * outage is the proxy answering UNAVAILABLE instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { appendFile, lstat, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../log/logger.js';
import { startFaultProxy, type StartedFaultProxy } from './fault-proxy.js';

export interface ProviderSessionOptions {
  name: string;
  /** The author's socket (absolute): where their provider serves. */
  socket: string;
  /** Where the proxy serves (absolute). */
  proxySocket: string;
  providerCmd?: string | undefined;
  rotateCmd?: string | undefined;
  /** Where the provider's and the rotate command's output go. */
  logDir: string;
  /** How long the provider may take to serve on its socket. */
  startTimeoutMs?: number;
  logger: Logger;
}

/** Resolves when something accepts connections on the unix socket `path`. */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class ProviderSession {
  /** Set by `start` once the provider serves. */
  proxy!: StartedFaultProxy;
  /** The provider's output, with --provider-cmd. */
  readonly logFile: string | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<number | string> | undefined;
  private rotations = 0;
  private readonly rotateLog: string;
  /** The provider's group is its own (for kill -9 of all of it): it must not outlive the harness. */
  private readonly onExit = () => this.killGroupNow();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.killGroupNow();
    this.unhook();
    process.kill(process.pid, signal);
  };

  private constructor(private readonly options: ProviderSessionOptions) {
    this.logFile = options.providerCmd === undefined ? undefined : join(options.logDir, `provider-${options.name}.log`);
    this.rotateLog = join(options.logDir, 'rotate.log');
  }

  /** Starts the provider (with --provider-cmd), waits for its socket, then puts the proxy in front. */
  static async start(options: ProviderSessionOptions): Promise<ProviderSession> {
    const session = new ProviderSession(options);
    try {
      if (session.logFile !== undefined) await session.startProcess(session.logFile);
      session.proxy = await startFaultProxy({ socket: options.proxySocket, upstream: options.socket, controlAddr: '127.0.0.1:0', logger: options.logger });
    } catch (err) {
      await session.stopProcess();
      session.unhook();
      throw err;
    }
    return session;
  }

  get name(): string {
    return this.options.name;
  }

  /** The author's socket. */
  get socket(): string {
    return this.options.socket;
  }

  /** Whether the harness runs the provider process (--provider-cmd): only then can it kill it. */
  get managed(): boolean {
    return this.options.providerCmd !== undefined;
  }

  get canRotate(): boolean {
    return this.options.rotateCmd !== undefined;
  }

  private killGroupNow(): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private hook(): void {
    this.unhook();
    process.once('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  private unhook(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private async startProcess(logFile: string): Promise<void> {
    const cmd = this.options.providerCmd!;
    // A stale socket of a killed provider would look ready before the new one listens.
    const old = await lstat(this.options.socket).catch(() => undefined);
    if (old?.isSocket()) await rm(this.options.socket, { force: true });
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawn('sh', ['-c', cmd], { detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    this.hook();
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
      child.once('error', () => resolve(-1));
    });
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    const until = Date.now() + timeoutMs;
    let gone: number | string | undefined;
    void this.exited.then((c) => (gone = c));
    while (!(await accepts(this.options.socket))) {
      if (gone !== undefined) throw new Error(`--provider-cmd exited (${gone}) before serving on ${this.options.socket}; its output:\n${this.logTail()}`);
      if (Date.now() > until) {
        await this.stopProcess();
        throw new Error(`--provider-cmd did not serve on ${this.options.socket} within ${timeoutMs} ms (is that the socket it listens on?); its output:\n${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.options.logger.info({ provider: this.options.name, pid: child.pid, socket: this.options.socket, log: logFile }, 'provider started');
  }

  private async stopProcess(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const group = -child.pid;
    try {
      process.kill(group, signal);
    } catch {
      return; // already gone
    }
    if (signal !== 'SIGKILL') {
      const stopped = await Promise.race([this.exited!.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      if (stopped) return;
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        return;
      }
    }
    await this.exited;
  }

  /** kill -9 the provider's whole process group and wait for it (with --provider-cmd only). */
  async kill(): Promise<void> {
    if (!this.managed) throw new Error(`the provider ${this.name} was not started by the harness (no --provider-cmd): it cannot be killed`);
    await this.stopProcess('SIGKILL');
    // The shell is reaped at once; a process behind it may take a moment longer to let its socket go.
    const until = Date.now() + 5000;
    while ((await accepts(this.options.socket)) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    this.options.logger.info({ provider: this.name }, 'provider killed (SIGKILL)');
  }

  /** Starts the provider again (with --provider-cmd only) and waits until it serves. */
  async restart(): Promise<void> {
    if (!this.managed) throw new Error(`the provider ${this.name} was not started by the harness (no --provider-cmd): it cannot be started`);
    await this.startProcess(this.logFile!);
  }

  /** Runs --rotate-cmd once (SSCSI_ROTATION counts the calls); throws when it fails. */
  async rotate(): Promise<number> {
    if (!this.canRotate) throw new Error('no --rotate-cmd: the harness cannot change an object in the provider backend');
    const n = ++this.rotations;
    const r = await execa('sh', ['-c', this.options.rotateCmd!], { env: { SSCSI_ROTATION: String(n) }, all: true, reject: false, timeout: 30_000 });
    await appendFile(this.rotateLog, `--- rotation ${n}: exit ${r.exitCode ?? r.signal}\n${r.all ?? ''}\n`);
    if (r.failed) throw new Error(`--rotate-cmd (rotation ${n}) failed: ${r.timedOut ? 'no exit within 30 s' : `exit ${r.exitCode ?? r.signal}`}; its output is in ${this.rotateLog}`);
    return n;
  }

  /** The last lines the provider wrote (with --provider-cmd), for failure reports. */
  logTail(lines = 20): string {
    if (!this.logFile) return '';
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    await this.proxy?.close();
    await this.stopProcess();
    this.unhook();
  }
}
