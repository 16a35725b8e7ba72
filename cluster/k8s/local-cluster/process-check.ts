/** Whether a pid is alive and still the program it was: its command line holds every word of `marker`. */
import { readFile } from 'node:fs/promises';

export async function isProcess(pid: number, marker: string | readonly string[]): Promise<boolean> {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return (typeof marker === 'string' ? [marker] : marker).every((word) => argv.some((a) => a.includes(word)));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone (or was not `marker`). */
export async function terminate(pid: number, marker: string | readonly string[], graceMs = 10_000): Promise<void> {
  if (!(await isProcess(pid, marker))) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // gone already
    }
  };
  signal('SIGTERM');
  const killAt = Date.now() + graceMs;
  let killed = false;
  while (await isProcess(pid, marker)) {
    if (!killed && Date.now() > killAt) {
      signal('SIGKILL');
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
