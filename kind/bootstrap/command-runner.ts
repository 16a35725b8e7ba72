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

export class ToolMissingError extends Error {
  constructor(readonly tool: string) {
    super(`${tool} is not installed (no ${JSON.stringify(tool)} on PATH)`);
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
