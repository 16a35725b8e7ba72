/**
 * Running the node's helper programs (tar, ctr, runc, go, mount tools): one call, its output,
 * and on failure an error naming the command, its exit code and the end of its output.
 */
import { execa } from 'execa';

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Bytes or a file to feed on stdin. */
  input?: string | Buffer;
  inputFile?: string;
}

/** Runs `command`; throws when it cannot start or exits non-zero. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandOutput> {
  const r = await execa(command, args, {
    reject: false,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    ...(options.input !== undefined ? { input: options.input } : options.inputFile ? { inputFile: options.inputFile } : { stdin: 'ignore' as const }),
  });
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  if (r.failed) {
    const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-12).join('\n');
    const why = r.exitCode === undefined ? String((r as { shortMessage?: string }).shortMessage ?? 'could not be started') : `exited with ${r.exitCode}`;
    throw new Error(`${command} ${args.join(' ')} ${why}${tail ? `:\n${tail}` : ''}`);
  }
  return { stdout, stderr };
}
