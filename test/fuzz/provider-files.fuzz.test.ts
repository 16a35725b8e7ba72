/**
 * Provider replies — random and hostile file sets, paths, modes and sizes — through the
 * driver's payload validation and its atomic writer, on a real (small) tmpfs when root.
 * The properties are invariants, not today's exact accept/reject list:
 *
 * - validation either accepts or throws a PayloadError; what it accepts stays inside the
 *   target and never takes a name the writer keeps for itself (`..data`, payload dirs);
 * - a write never touches anything outside the target; it either succeeds, and the target
 *   then holds exactly the payload (bytes, modes, links resolving inside), or fails and the
 *   target is exactly as it was (all-or-nothing) — also when the tmpfs is full;
 * - a reader on another thread that resolves `..data` once never sees a mixed set.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAtomically } from '../../driver/fileutil/atomic-writer.js';
import { buildPayload, PayloadError, type ProvidedFile } from '../../driver/fileutil/payload.js';
import { mountTmpfs } from '../../driver/mount/tmpfs-mounter.js';
import { isRoot, makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { checkAsyncProperty, checkProperty, fuzzTimeout } from './fuzz-config.js';

/** What protobuf decoding can deliver: any string that survives UTF-8 (no lone surrogates). */
const wire = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

const segment = fc.oneof(
  fc.constantFrom('..', '.', '', '...', '..data', '..data_tmp', '..2026_01_01_00_00_00.abcdef', 'a', 'b', 'a.b', ' ', '~', '-', 'é', '日本', 'x'.repeat(255), 'y'.repeat(256), 'CON', '\n', '\\', '%2e%2e'),
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }).map(wire),
);
/** Paths a hostile or broken provider might send. */
const hostilePath = fc.oneof(
  { weight: 6, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')) },
  { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map(wire) },
  { weight: 1, arbitrary: fc.constantFrom('a\0b', 'z'.repeat(5000), `${'d/'.repeat(2100)}f`) },
);
/** Mostly sane paths, so that many replies get past validation and reach the disk. */
const saneName = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/);
const sanePath = fc.array(saneName, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
/** proto3 int32 modes: mostly valid, some not. */
const mode = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 0o777 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(-1, 0o1000, 0o4755, 0o7777, 2 ** 31 - 1)) },
);
const smallContents = fc.uint8Array({ maxLength: 64 });
/** Some large enough that two of them fill the 2 MiB tmpfs. */
const contents = fc.oneof(
  { weight: 6, arbitrary: smallContents },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1200 * 1024 }).map((n) => new Uint8Array(n).fill(0x5a)) },
);
const providedFile = (path: fc.Arbitrary<string>, body = contents) => fc.record({ path, mode, contents: body });
const reply = fc.oneof(
  { weight: 3, arbitrary: fc.array(providedFile(sanePath), { maxLength: 6 }) },
  { weight: 2, arbitrary: fc.array(providedFile(fc.oneof(sanePath, hostilePath)), { maxLength: 6 }) },
);

const writerNames = (name: string) => name.startsWith('..');

describe('payload validation (pure)', () => {
  it('accepts or throws a PayloadError, and what it accepts stays inside the target', () => {
    checkProperty('payload validation', 6000, fc.property(fc.array(providedFile(fc.oneof(hostilePath, sanePath), smallContents), { maxLength: 5 }), fc.integer({ min: 0, max: 0o777 }), (files, defaultMode) => {
      let payload;
      try {
        payload = buildPayload(files, defaultMode);
      } catch (err) {
        expect(err).toBeInstanceOf(PayloadError);
        expect((err as Error).message).toMatch(/file path|mode/);
        return;
      }
      for (const [path, file] of payload) {
        const full = posix.resolve('/target', path);
        expect(full.startsWith('/target/'), path).toBe(true);
        expect(path.includes('\0')).toBe(false);
        expect(writerNames(path.split('/')[0]!), path).toBe(false);
        expect(file.mode).toBeGreaterThanOrEqual(0);
        expect(file.mode).toBeLessThanOrEqual(0o777);
      }
      // Nothing accepted is lost or invented.
      expect(payload.size).toBe(files.length);
    }));
  });
});

/** Everything below `dir`, without following links: path → type, mode, size, digest or link. */
function snapshot(dir: string, skip?: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (p === skip) continue;
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${(st.mode & 0o7777).toString(8)}`);
        walk(p);
      } else out.set(rel, `file ${(st.mode & 0o7777).toString(8)} ${st.size} ${st.ino} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`);
    }
  };
  walk(dir);
  return out;
}

/** The regular files a reader finds through `..data`, relative to it. */
function visibleFiles(target: string): string[] {
  const data = join(target, readlinkSync(join(target, '..data')));
  return readdirSync(data, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => posix.relative(data, join(e.parentPath, e.name)))
    .sort();
}

let root: TempRoot;
let fsRoot: string;
beforeAll(async () => {
  root = await makeTempRoot('fuzz-writer');
  fsRoot = join(root.path, 'fs');
  mkdirSync(fsRoot);
  // A small tmpfs, so large replies also meet ENOSPC (cleaned up by root.cleanup, even on failure).
  if (isRoot) mountTmpfs(fsRoot, 'size=2m,mode=0755');
  mkdirSync(join(fsRoot, 'canary'));
  writeFileSync(join(fsRoot, 'canary', 'outside'), 'must stay');
  mkdirSync(join(fsRoot, 'targets'));
});
afterAll(async () => {
  await root?.cleanup();
});

describe(`the atomic writer on ${isRoot ? 'a 2 MiB tmpfs' : 'a plain directory (not root: no tmpfs)'}`, () => {
  let n = 0;
  const defaultRuns = 150;
  it('never writes outside the target; each write is all or nothing', { timeout: fuzzTimeout(defaultRuns, 100) }, () => {
    const outside = snapshot(fsRoot, join(fsRoot, 'targets'));
    checkProperty('atomic writer, sequences of replies', defaultRuns, fc.property(fc.array(reply, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 0o777 }), (replies, defaultMode) => {
      const target = join(fsRoot, 'targets', `t${n++}`);
      mkdirSync(target);
      try {
        for (const files of replies) {
          const before = snapshot(target);
          let payload;
          try {
            payload = buildPayload(files, defaultMode);
          } catch (err) {
            expect(err).toBeInstanceOf(PayloadError);
            expect(snapshot(target)).toEqual(before);
            continue;
          }
          try {
            writeAtomically(target, payload);
          } catch (err) {
            // ENOSPC, ENAMETOOLONG...: the target is exactly as it was.
            expect((err as NodeJS.ErrnoException).code, String(err)).toMatch(/^E[A-Z]+$/);
            expect(snapshot(target)).toEqual(before);
            continue;
          }
          expect(visibleFiles(target)).toEqual([...payload.keys()].sort());
          for (const [path, file] of payload) {
            expect(Buffer.compare(readFileSync(join(target, path)), Buffer.from(file.data)), path).toBe(0);
            expect(statSync(join(target, path)).mode & 0o777, path).toBe(file.mode);
          }
          for (const name of readdirSync(target)) {
            const real = realpathSync(join(target, name));
            expect(real === target || real.startsWith(`${target}/`), `${name} → ${real}`).toBe(true);
          }
        }
        expect(snapshot(fsRoot, join(fsRoot, 'targets'))).toEqual(outside);
        expect(readdirSync(join(fsRoot, 'targets'))).toEqual([`t${n - 1}`]);
      } finally {
        rmSync(target, { recursive: true, force: true });
      }
    }));
  });

  it('a reader that resolves ..data once never sees a mixed set', { timeout: fuzzTimeout(12, 3000) }, async () => {
    // The reader thread is told each run's sets (gen → sorted paths) and reads until stopped.
    const reader = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const fs = require('node:fs'), path = require('node:path');
       parentPort.on('message', ({ dir, stop, sets }) => {
         const flag = new Int32Array(stop);
         let complete = 0, vanished = 0, lateFailures = 0; const mixed = [];
         Atomics.store(flag, 1, 1);
         // Once told to stop it reads on until one read completes: the swaps are over then,
         // so that read must find the last set whole, however little CPU this thread got
         // while they ran (a loaded machine may invalidate every read made during them).
         for (let stopping = false; !stopping || complete === 0; ) {
           stopping = Atomics.load(flag, 0) !== 0;
           let d1, d2, files; const gens = new Set();
           try {
             d1 = fs.readlinkSync(dir + '/..data');
             const base = dir + '/' + d1;
             files = fs.readdirSync(base, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.posix.relative(base, path.join(e.parentPath, e.name))).sort();
             for (const f of files) { const b = fs.readFileSync(base + '/' + f); gens.add(b.subarray(0, b.indexOf(59)).toString()); }
             d2 = fs.readlinkSync(dir + '/..data');
           } catch { vanished++; if (stopping && ++lateFailures > 100) break; continue; }
           if (d1 !== d2) { vanished++; continue; } // the set was swapped while being read
           const gen = [...gens][0];
           const ok = gens.size === 1 ? JSON.stringify(sets[gen]) === JSON.stringify(files) : gens.size === 0 && Object.values(sets).some((s) => s.length === 0);
           if (ok) complete++; else { if (mixed.length < 5) mixed.push({ gens: [...gens], files }); if (stopping) break; }
         }
         parentPort.postMessage({ complete, vanished, mixed });
       });`,
      { eval: true },
    );
    try {
      const distinctPaths = fc.uniqueArray(sanePath, { minLength: 1, maxLength: 6 });
      await checkAsyncProperty('concurrent reader, sequences of 20 sets', 12, fc.asyncProperty(fc.array(distinctPaths, { minLength: 20, maxLength: 20 }), async (sets) => {
        const target = join(fsRoot, 'targets', `r${n++}`);
        mkdirSync(target);
        try {
          // Each file starts with its set's generation, so a mix of sets shows.
          const payloads = sets.map((paths, gen) => {
            try {
              return buildPayload(paths.map((p) => ({ path: p, mode: 0o644, contents: Buffer.from(`${gen};${p}`) })), 0o644);
            } catch {
              return undefined; // a file that is also a directory ("a" and "a/b")
            }
          });
          const expected = Object.fromEntries(payloads.flatMap((p, gen) => (p ? [[String(gen), [...p.keys()].sort()]] : [])));
          const valid = payloads.filter((p) => p !== undefined);
          if (valid.length === 0) return;
          writeAtomically(target, valid[0]!);
          const stop = new SharedArrayBuffer(8);
          const flags = new Int32Array(stop);
          const done = new Promise<{ complete: number; vanished: number; mixed: unknown[] }>((resolve) => reader.once('message', resolve));
          reader.postMessage({ dir: target, stop, sets: expected });
          while (Atomics.load(flags, 1) === 0) await new Promise((r) => setTimeout(r, 1));
          for (let round = 0; round < 5; round++) for (const p of valid) writeAtomically(target, new Map([...p].map(([k, f]) => [k, { ...f }])));
          Atomics.store(flags, 0, 1);
          const result = await done;
          expect(result.mixed).toEqual([]);
          expect(result.complete).toBeGreaterThan(0);
        } finally {
          rmSync(target, { recursive: true, force: true });
        }
      }));
    } finally {
      await reader.terminate();
    }
  });
});
