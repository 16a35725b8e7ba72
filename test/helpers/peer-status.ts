/**
 * Whether a peer program (`npm run peers`, peers/build.ts) is built, from
 * `.peers/status.json`: its path, or the reason a test that needs it is skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../driver/version.js';

type Outcome = { name: string; built: true; path: string } | { name: string; built: false; reason: string };

export function peer(name: string, root = packageRoot()): { path: string; skip?: undefined } | { path?: undefined; skip: string } {
  const file = join(root, '.peers', 'status.json');
  let peers: Outcome[];
  try {
    peers = (JSON.parse(readFileSync(file, 'utf8')) as { peers: Outcome[] }).peers;
  } catch {
    return { skip: `peer ${name} not built: no ${file} (run npm run peers)` };
  }
  const p = peers.find((o) => o.name === name);
  if (!p) return { skip: `peer ${name} not built: not listed in ${file}` };
  if (!p.built) return { skip: `peer ${name} not built: ${p.reason}` };
  const path = join(root, '.peers', 'bin', name);
  return existsSync(path) ? { path } : { skip: `peer ${name} not built: ${path} is missing` };
}
