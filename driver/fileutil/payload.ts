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

/** Which rule a provider's file path breaks (see `pathRule`). */
export type PathRule = 'empty' | 'nul' | 'absolute' | 'dotdot' | 'dotdot-prefix' | 'unclean';

/**
 * The rules upstream and the Kubernetes atomic writer apply, in order: not empty, no NUL
 * byte, relative, no `..` element, not starting with `..` (that prefix is the writer's
 * own), clean (as path.Clean would leave it). Returns the first rule broken, or undefined.
 * The conformance kit judges providers by the same rules.
 */
export function pathRule(path: string): PathRule | undefined {
  if (path === '') return 'empty';
  if (path.includes('\0')) return 'nul';
  if (path.startsWith('/')) return 'absolute';
  if (path.split('/').includes('..')) return 'dotdot';
  if (path.startsWith('..')) return 'dotdot-prefix';
  if (posix.normalize(path) !== path || path.endsWith('/') || path === '.') return 'unclean';
  return undefined;
}

/** The clean form of a path that breaks the `unclean` rule, for "did you mean". */
export const cleanForm = (path: string) => posix.normalize(path).replace(/\/$/, '');

export function validatePath(path: string): void {
  const shown = JSON.stringify(path);
  switch (pathRule(path)) {
    case undefined:
      return;
    case 'empty':
      throw new PayloadError('invalid file path "": a path must not be empty');
    case 'nul':
      throw new PayloadError(`invalid file path ${shown}: contains a NUL byte`);
    case 'absolute':
      throw new PayloadError(`invalid file path ${shown}: must be relative, not absolute`);
    case 'dotdot':
      throw new PayloadError(`invalid file path ${shown}: must not contain '..'`);
    case 'dotdot-prefix':
      throw new PayloadError(`invalid file path ${shown}: must not start with '..'`);
    case 'unclean':
      throw new PayloadError(`invalid file path ${shown}: must be clean (no '.', '//' or trailing '/'); did you mean ${JSON.stringify(cleanForm(path))}?`);
  }
}

/** Permission bits a file may have: 0..0o777 (0 = not set). */
export const isValidMode = (mode: number) => Number.isInteger(mode) && mode >= 0 && mode <= 0o777;

export function validateMode(path: string, mode: number): void {
  if (!isValidMode(mode)) {
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
