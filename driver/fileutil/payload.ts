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

/** Which byte-level rule a provider's file path breaks (see `byteRule`). */
export type ByteRule = 'invalid-utf8' | 'path-too-long' | 'name-too-long';

/** Longest path and path component, in bytes, as upstream's atomic writer and Linux allow. */
export const maxPathBytes = 4096;
export const maxNameBytes = 255;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The rules on a path's bytes: valid UTF-8 as sent (`raw`, the field's bytes off the wire;
 * gRPC decodes a bad sequence to U+FFFD, which would write the file under another name), at
 * most 4096 bytes in all and 255 per component (upstream's limits; the kernel's too, which
 * would otherwise refuse the write only after the volume was mounted).
 */
export function byteRule(path: string, raw?: Uint8Array): ByteRule | undefined {
  if (raw !== undefined) {
    try {
      strictUtf8.decode(raw);
    } catch {
      return 'invalid-utf8';
    }
  }
  if (Buffer.byteLength(path, 'utf8') > maxPathBytes) return 'path-too-long';
  if (path.split('/').some((c) => Buffer.byteLength(c, 'utf8') > maxNameBytes)) return 'name-too-long';
  return undefined;
}

/** Bytes for a message: printable ASCII as is, anything else as \xNN. */
function showBytes(raw: Uint8Array): string {
  return [...raw].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

/** The clean form of a path that breaks the `unclean` rule, for "did you mean". */
export const cleanForm = (path: string) => posix.normalize(path).replace(/\/$/, '');

/** Validates a provider's file path (`raw`: its bytes as sent, when known); throws a PayloadError. */
export function validatePath(path: string, raw?: Uint8Array): void {
  const shown = JSON.stringify(path);
  switch (byteRule(path, raw)) {
    case undefined:
      break;
    case 'invalid-utf8':
      throw new PayloadError(`invalid file path "${showBytes(raw!)}": not valid UTF-8; file names must be sent as UTF-8`);
    case 'path-too-long':
      throw new PayloadError(`invalid file path ${JSON.stringify(path.slice(0, 64))}…: ${Buffer.byteLength(path, 'utf8')} bytes, must be at most ${maxPathBytes}`);
    case 'name-too-long': {
      const name = path.split('/').find((c) => Buffer.byteLength(c, 'utf8') > maxNameBytes)!;
      throw new PayloadError(`invalid file path ${JSON.stringify(path.slice(0, 64))}…: the component ${JSON.stringify(name.slice(0, 32))}… is ${Buffer.byteLength(name, 'utf8')} bytes, must be at most ${maxNameBytes}`);
    }
  }
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
  /** The path's bytes as the provider sent them (checked to be UTF-8), when known. */
  rawPath?: Uint8Array;
  mode: number;
  contents: Uint8Array;
}

/**
 * The longest absolute name a write makes in `targetDir` — `<targetDir>/..<timestamp>.<random>/<path>`
 * — must fit the kernel's PATH_MAX (4096 with its NUL): a path within the 4096-byte rule can
 * still be too long below a deep target, and that must fail as a bad path before anything is
 * written, not as a write error halfway.
 */
export function validatePathsUnder(targetDir: string, payload: Payload): void {
  const payloadDirBytes = '..2026_01_01_00_00_00.XXXXXX'.length;
  const base = Buffer.byteLength(targetDir, 'utf8') + 1 + payloadDirBytes + 1;
  for (const path of payload.keys()) {
    const total = base + Buffer.byteLength(path, 'utf8');
    if (total >= maxPathBytes) {
      throw new PayloadError(`invalid file path ${JSON.stringify(path.slice(0, 64))}${path.length > 64 ? '…' : ''}: written below ${targetDir} it would be ${total} bytes, over the kernel's ${maxPathBytes - 1}`);
    }
  }
}

/**
 * Builds the payload from a provider's files. A mode of 0 is proto3's "not set": such
 * files get `defaultMode` (upstream writes them as 000, readable by root alone).
 */
export function buildPayload(files: readonly ProvidedFile[], defaultMode: number): Payload {
  const payload: Payload = new Map();
  for (const f of files) {
    validatePath(f.path, f.rawPath);
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
