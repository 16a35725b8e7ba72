/**
 * kubectl as a user runs it against a started simulated cluster's admin kubeconfig: the
 * exit code, stdout and stderr of one command. Tests skip themselves where kubectl is not
 * installed (`kubectlVersion` undefined).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KubectlResult {
  code: number;
  out: string;
  err: string;
}

export const kubectlVersion: string | undefined = await run('kubectl', ['version', '--client', '--output=json'], { timeout: 20_000 }).then(
  (r) => (JSON.parse(r.stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion,
  () => undefined,
);
if (!kubectlVersion) console.warn('kubectl tests skipped: kubectl is not installed on this machine');

/** A runner bound to a kubeconfig (read when each command runs). */
export function kubectlFor(kubeconfig: () => string, timeoutMs = 60_000) {
  return async (...args: string[]): Promise<KubectlResult> => {
    try {
      const r = await run('kubectl', ['--kubeconfig', kubeconfig(), ...args], { timeout: timeoutMs });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, out: err.stdout, err: err.stderr };
    }
  };
}
