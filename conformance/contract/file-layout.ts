/**
 * What a published volume looks like on the node, as the checks state it: the Kubernetes
 * atomic writer's projected-volume layout that upstream's fileutil/atomic_writer.go keeps
 * (`..data` → one hidden timestamped payload dir beside it, each top-level name a symlink
 * `name → ..data/name`), and the mode each file gets. Nothing here comes from the driver
 * under test.
 */
import { cleanForm, isValidMode, pathRule, type PathRule } from './provider-wire.js';

/** The symlink naming the current payload dir. */
export const dataLink = '..data';

/** A payload dir's name: hidden (`..` prefix), never `..data` itself, one path element. */
export const isPayloadDirName = (name: string) => /^\.\.[^/]+$/.test(name) && name !== dataLink && name !== '..data_tmp';

/** What a visible top-level entry links to. */
export const visibleLinkTarget = (name: string) => `${dataLink}/${name}`;

/** The top-level names a set of file paths makes visible (`keys/api-key` → `keys`). */
export const visibleNames = (paths: readonly string[]) => [...new Set(paths.map((p) => p.split('/')[0]!))];

/**
 * The mode a provider's file gets on disk: its own mode, or for 0 (proto3's "not set") the
 * request's permission. Upstream v1.6 writes a 0 as mode 000 (readable by root alone);
 * this project's driver applies the permission — a check of that is beyond upstream.
 */
export const modeOnDisk = (replyMode: number, permission: number) => (replyMode === 0 ? permission : replyMode);

const ruleText: Record<PathRule, string> = {
  empty: 'a path must not be empty',
  nul: 'contains a NUL byte',
  absolute: 'must be relative, not absolute',
  dotdot: "must not contain '..'",
  'dotdot-prefix': "must not start with '..' (the writer's own names do)",
  unclean: "must be clean (no '.', '//' or trailing '/')",
};

/** Why a reply's file path or mode cannot be written, or undefined when it can. */
export function replyFileProblem(path: string, mode: number): string | undefined {
  const rule = pathRule(path);
  if (rule) return `invalid file path ${JSON.stringify(path)}: ${ruleText[rule]}${rule === 'unclean' ? `; did you mean ${JSON.stringify(cleanForm(path))}?` : ''}`;
  if (!isValidMode(mode)) return `invalid mode ${mode} for file ${JSON.stringify(path)}: must be within 0..511 (0o777)`;
  return undefined;
}

export interface ExpectedFile {
  /** Relative path in the volume. */
  path: string;
  mode: number;
  contents: Buffer;
}

/**
 * The files a volume must show for a provider's reply: each file at its path with its
 * mode on disk; a reply with a bad path or mode, or a path twice, is an Error (it fails the
 * whole mount).
 */
export function expectedFiles(files: ReadonlyArray<{ path: string; mode: number; contents: Uint8Array }>, permission: number): ExpectedFile[] {
  const seen = new Set<string>();
  return files.map((f) => {
    const problem = replyFileProblem(f.path, f.mode);
    if (problem) throw new Error(problem);
    if (seen.has(f.path)) throw new Error(`file path ${JSON.stringify(f.path)} appears twice in the reply`);
    seen.add(f.path);
    return { path: f.path, mode: modeOnDisk(f.mode, permission), contents: Buffer.from(f.contents) };
  });
}
