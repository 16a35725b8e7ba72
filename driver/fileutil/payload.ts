/**
 * Validation of the files a provider returns, before anything touches the disk. A payload
 * that fails any rule fails the whole mount: nothing is written.
 */
import { posix } from 'node:path';

export interface FileProjection {
  data: Uint8Array;
  /** Permission bits, 0..0o777. */
  mode: number;
}

/** Relative path inside the volume → file. */
export type Payload = Map<string, FileProjection>;

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

/**
 * The rules upstream and the Kubernetes atomic writer apply: relative, clean (as
 * path.Clean would leave it), no `..` element, not starting with `..` (that prefix is the
 * writer's own), no NUL byte; modes within 0..0o777.
 */
export function validatePath(path: string): void {
  const shown = JSON.stringify(path);
  if (path === '') throw new PayloadError('invalid file path "": a path must not be empty');
  if (path.includes('\0')) throw new PayloadError(`invalid file path ${shown}: contains a NUL byte`);
  if (path.startsWith('/')) throw new PayloadError(`invalid file path ${shown}: must be relative, not absolute`);
  if (path.split('/').includes('..')) throw new PayloadError(`invalid file path ${shown}: must not contain '..'`);
  if (path.startsWith('..')) throw new PayloadError(`invalid file path ${shown}: must not start with '..'`);
  if (posix.normalize(path) !== path || path.endsWith('/') || path === '.') {
    throw new PayloadError(`invalid file path ${shown}: must be clean (no '.', '//' or trailing '/'); did you mean ${JSON.stringify(posix.normalize(path).replace(/\/$/, ''))}?`);
  }
}

export function validateMode(path: string, mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new PayloadError(`invalid mode ${mode} for file ${JSON.stringify(path)}: must be within 0..511 (0o777)`);
  }
}

export interface ProvidedFile {
  path: string;
  mode: number;
  contents: Uint8Array;
}

/**
 * Builds the payload from a provider's files. A mode of 0 is proto3's "not set": such
 * files get `defaultMode` (upstream writes them as 000, readable by root alone).
 */
export function buildPayload(files: readonly ProvidedFile[], defaultMode: number): Payload {
  const payload: Payload = new Map();
  for (const f of files) {
    validatePath(f.path);
    validateMode(f.path, f.mode);
    if (payload.has(f.path)) throw new PayloadError(`file path ${JSON.stringify(f.path)} appears twice in the provider's reply`);
    payload.set(f.path, { data: f.contents, mode: f.mode === 0 ? defaultMode : f.mode });
  }
  // A path may not be both a file and a directory ("a" and "a/b").
  for (const path of payload.keys()) {
    let dir = posix.dirname(path);
    while (dir !== '.') {
      if (payload.has(dir)) throw new PayloadError(`file path ${JSON.stringify(dir)} is also used as a directory by ${JSON.stringify(path)}`);
      dir = posix.dirname(dir);
    }
  }
  return payload;
}
