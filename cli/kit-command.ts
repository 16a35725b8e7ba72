/**
 * What the two conformance commands share: flags parsed strictly (2 and the usage on a
 * mistake), --help, the kit run (1 with one line when it cannot run), then the table,
 * the JUnit and JSON files, and the exit code: 0 when the target conforms (every check
 * passed but, possibly, checks of extensions beyond upstream), 1 when it does not — with
 * --strict, 1 also when an extension is lacking.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import type { KitResult } from '../conformance/check.js';
import { emitKitReports } from '../conformance/report.js';
import { SpcFileError } from '../harness/spc-file.js';
import { parseDuration } from '../driver/flags.js';
import { parseFlags } from './parse-flags.js';

export class UsageError extends Error {}

export function positiveInt(text: string | undefined, flag: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

export function duration(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  try {
    const ms = parseDuration(text, flag.replace(/^--/, ''));
    if (ms <= 0) throw new Error(`${flag} must be positive`);
    return ms;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Rejects `--only` names that are not checks of the kit. */
export function checkOnly(only: string[] | undefined, ids: readonly string[]): void {
  const unknown = (only ?? []).filter((id) => !ids.includes(id));
  if (unknown.length > 0) throw new UsageError(`unknown check ${unknown.join(', ')}; the checks are ${ids.join(', ')}`);
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** A string flag's value from the parsed flags. */
export const str = (v: Values[string]) => v as string | undefined;

export interface KitCommand<T> {
  /** e.g. "sscsi conformance provider". */
  name: string;
  usage: string;
  options: ParseArgsOptionsConfig;
  /** Turns the flags into the kit's options; throws UsageError (or SpcFileError) for bad input. */
  prepare(values: Values): Promise<T>;
  /** The line printed before the kit starts. */
  banner(options: T): string;
  run(options: T, signal: AbortSignal): Promise<KitResult>;
}

export async function runKitCommand<T>(argv: string[], command: KitCommand<T>): Promise<number> {
  const parsed = parseFlags<Values>(command.name, command.usage, argv, { ...command.options, junit: { type: 'string' }, json: { type: 'string' }, strict: { type: 'boolean' } });
  if (parsed.exit !== undefined) return parsed.exit;
  const values = parsed.values;
  let options: T;
  try {
    options = await command.prepare(values);
  } catch (err) {
    if (err instanceof UsageError || err instanceof SpcFileError) {
      process.stderr.write(`${command.name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  process.stdout.write(`${command.banner(options)}\n`);
  // The first Ctrl-C (or SIGTERM) lets the running check finish and cleans up (unpublishes,
  // stops what the kit started); a second one exits at once.
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: finishing the check running, then cleaning up (again to exit now)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: KitResult;
  try {
    result = await command.run(options, abort.signal);
  } catch (err) {
    process.stderr.write(`${command.name}: ${(err as Error).message}\n`);
    return abort.signal.aborted ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await emitKitReports(result, { junit: values.junit as string | undefined, json: values.json as string | undefined });
  if (result.interrupted) {
    process.stdout.write('interrupted: the checks not run are reported skipped\n');
    return 130;
  }
  const ok = values.strict ? result.passed : result.verdict.conforms;
  return ok ? 0 : 1;
}
