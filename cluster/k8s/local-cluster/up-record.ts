/**
 * `<state>/k8s-up.json`: which process runs `sscsi k8s up` for this state dir and the pids of
 * the processes it started (control plane, host driver), so `sscsi k8s down` in another
 * process can stop them — each pid only after /proc/<pid>/cmdline shows it is still the same
 * program, so a reused pid is never signalled.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface UpProcess {
  name: string;
  pid: number;
  /** A word its command line contains (its binary path), checked before any signal. */
  marker: string;
}

export interface UpRecord {
  /** The `sscsi k8s up` process. */
  pid: number;
  stateDir: string;
  processes: UpProcess[];
}

export const upRecordPath = (stateDir: string) => join(stateDir, 'k8s-up.json');

export async function writeUpRecord(record: UpRecord): Promise<void> {
  await writeFile(upRecordPath(record.stateDir), `${JSON.stringify(record, null, 2)}\n`);
}

export async function readUpRecord(stateDir: string): Promise<UpRecord | undefined> {
  try {
    return JSON.parse(await readFile(upRecordPath(stateDir), 'utf8')) as UpRecord;
  } catch {
    return undefined;
  }
}

export async function removeUpRecord(stateDir: string): Promise<void> {
  await rm(upRecordPath(stateDir), { force: true });
}
