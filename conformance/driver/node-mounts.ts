/**
 * The node's mount table as the kit reads it, independently of the driver under test:
 * /proc/self/mountinfo (`id parent major:minor root mountpoint options [optional...] -
 * fstype source superopts`, paths with space, tab, newline and backslash as \ooo), and a
 * lazy `umount` of whatever a driver left mounted in the kit's world when it is torn down.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

export interface NodeMount {
  mountPoint: string;
  fsType: string;
  source: string;
}

const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export async function nodeMounts(): Promise<NodeMount[]> {
  const out: NodeMount[] = [];
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep === -1 || f.length < sep + 3) continue;
    out.push({ mountPoint: unescape(f[4]!), fsType: f[sep + 1]!, source: unescape(f[sep + 2]!) });
  }
  return out;
}

/** Unmounts (lazily) every mount at or below `root`, deepest first; best effort. */
export async function unmountUnder(root: string): Promise<void> {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const under = (await nodeMounts().catch(() => [])).filter((m) => m.mountPoint === root || m.mountPoint.startsWith(prefix));
  for (const m of under.sort((a, b) => b.mountPoint.length - a.mountPoint.length)) {
    await promisify(execFile)('umount', ['-l', m.mountPoint]).catch(() => undefined);
  }
}
