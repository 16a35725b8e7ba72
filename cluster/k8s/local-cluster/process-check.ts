/** Whether a pid is alive and still the program it was (its command line contains `marker`). */
import { readFile } from 'node:fs/promises';

export async function isProcess(pid: number, marker: string): Promise<boolean> {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return argv.some((a) => a.includes(marker));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone (or was not `marker`). */
export async function terminate(pid: number, marker: string, graceMs = 10_000): Promise<void> {
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
