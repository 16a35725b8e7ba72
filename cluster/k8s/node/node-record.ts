/**
 * What a started node records in `<stateDir>/node/node.json`, so stopping it (possibly from
 * another process) knows its pids, its name and whether it made the kubelet's root dir.
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface NodeRecord {
  nodeName: string;
  kubeletRootDir: string;
  /** True when startNode created the kubelet root dir: stopping removes it again. */
  ownsKubeletRootDir: boolean;
  containerdPid?: number;
  kubeletPid?: number;
  startedAt: string;
}

export async function readNodeRecord(file: string): Promise<NodeRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as NodeRecord;
  } catch {
    return undefined;
  }
}

export async function writeNodeRecord(file: string, r: NodeRecord): Promise<void> {
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
}
