/**
 * The boundary to the `kind`, `docker` and `kubectl` programs: run one command, get its exit
 * code and output. `ExecaRunner` is the real one; tests script a fake. A program that is not
 * installed is a `ToolMissingError`, never a failed command, so callers can say so plainly.
 */
import { execa } from 'execa';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
}

export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** A program that is not installed; the message says so in the words the commands print. */
export class ToolMissingError extends Error {
  constructor(readonly tool: string) {
    super(`${tool} is not installed (no ${tool} on PATH)`);
    this.name = 'ToolMissingError';
  }
}

export class ExecaRunner implements CommandRunner {
  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const proc = execa(command, args, {
      reject: false,
      stdin: 'ignore',
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    const r = await proc;
    // A program that could not be started at all has no exit code; ENOENT means not installed.
    if (r.failed && r.exitCode === undefined && ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { message?: string }).message ?? '')))) {
      throw new ToolMissingError(command);
    }
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  }
}

/** The last `lines` lines of a command's output (stdout, then stderr): what a failure message quotes. */
export function outputTail(r: Pick<CommandResult, 'stdout' | 'stderr'>, lines: number): string {
  return `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

/** Runs a command that must succeed: its result, or on a non-zero exit the error `failure` makes of it. */
export async function runOk(runner: CommandRunner, command: string, args: readonly string[], options: RunOptions | undefined, failure: (r: CommandResult) => Error): Promise<CommandResult> {
  const r = await runner.run(command, args, options);
  if (r.exitCode !== 0) throw failure(r);
  return r;
}
