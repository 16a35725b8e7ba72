/**
 * `sscsi conformance provider|driver`: the conformance kits from the command line. Each
 * prints a line per check as it runs, then the table; writes JUnit and JSON when asked;
 * exits 0 when nothing failed, 1 when a check failed or the kit could not run, 2 for bad usage.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../driver/flags.js';
import type { KitResult } from '../conformance/check.js';
import { formatKitTable, writeKitReports } from '../conformance/report.js';
import { readSpcFile, SpcFileError, type SpcDoc } from '../conformance/spc-file.js';
import { providerCheckIds, runProviderKit } from '../conformance/provider/run-provider-kit.js';
import { conformanceDriver, driverConformanceUsage } from './conformance-driver.js';

export const providerConformanceUsage = `Usage: sscsi conformance provider --socket PATH --spc FILE [options]

Drives a provider (ours or anybody's) over the v1alpha1 API as the driver does and checks
the contract, each check with a verdict and its evidence.

Options:
  --socket PATH                  the provider's unix socket
  --spc FILE                     a SecretProviderClass for this provider (its parameters are sent as the driver sends them)
  --unknown-spc FILE             a SecretProviderClass naming an object the provider does not have (the unknown-object check)
  --secrets FILE                 nodePublishSecretRef data (a JSON/YAML map of strings) for the secrets-map check
  --deadline DURATION            a reply must arrive within this (default 5s)
  --timeout DURATION             give up on a call after this (default 30s)
  --concurrency N                concurrent Mounts in the load check (default 50)
  --max-call-recv-msg-size BYTES the driver's receive limit the reply must fit (default 4194304, as the driver's flag)
  --only CHECK                   run only this check (repeatable): ${providerCheckIds.join(', ')}
  --junit FILE                   write JUnit XML (one testsuite per group)
  --json FILE                    write the results as JSON
`;

export const conformanceUsage = `Usage: sscsi conformance provider|driver [options]   (--help on each for its options)\n`;

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

async function secretsFile(path: string): Promise<Record<string, string>> {
  const doc = parseYaml(await readFile(path, 'utf8')) as unknown;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !Object.values(doc).every((v) => typeof v === 'string')) {
    throw new UsageError(`--secrets ${path} must hold a map of strings, e.g. {"username": "...", "password": "..."}`);
  }
  return doc as Record<string, string>;
}

/** Prints the table, writes the reports, and gives the exit code. */
export async function finishKit(run: KitResult, files: { junit?: string | undefined; json?: string | undefined }): Promise<number> {
  process.stdout.write(`\n${formatKitTable(run)}\n`);
  await writeKitReports(run, files);
  if (files.junit) process.stdout.write(`JUnit: ${files.junit}\n`);
  if (files.json) process.stdout.write(`JSON: ${files.json}\n`);
  return run.passed ? 0 : 1;
}

async function conformanceProvider(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        socket: { type: 'string' },
        spc: { type: 'string' },
        'unknown-spc': { type: 'string' },
        secrets: { type: 'string' },
        deadline: { type: 'string' },
        timeout: { type: 'string' },
        concurrency: { type: 'string' },
        'max-call-recv-msg-size': { type: 'string' },
        only: { type: 'string', multiple: true },
        junit: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`sscsi conformance provider: ${(err as Error).message}\n${providerConformanceUsage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(providerConformanceUsage);
    return 0;
  }
  let options;
  try {
    if (!values.socket || !values.spc) throw new UsageError('--socket and --spc are required');
    const unknownChecks = (values.only ?? []).filter((id) => !providerCheckIds.includes(id));
    if (unknownChecks.length > 0) throw new UsageError(`unknown check ${unknownChecks.join(', ')}; the checks are ${providerCheckIds.join(', ')}`);
    const spc = await readSpcFile(values.spc);
    const unknownSpc: SpcDoc | undefined = values['unknown-spc'] ? await readSpcFile(values['unknown-spc']) : undefined;
    options = {
      socket: values.socket,
      spc,
      unknownSpc,
      deadlineMs: duration(values.deadline, '--deadline', 5000),
      timeoutMs: duration(values.timeout, '--timeout', 30_000),
      concurrency: positiveInt(values.concurrency, '--concurrency', 50, 1000),
      maxRecvBytes: positiveInt(values['max-call-recv-msg-size'], '--max-call-recv-msg-size', 4 * 1024 * 1024),
      ...(values.secrets ? { secrets: await secretsFile(values.secrets) } : {}),
      only: values.only,
      out: process.stdout,
    };
  } catch (err) {
    if (err instanceof UsageError || err instanceof SpcFileError) {
      process.stderr.write(`sscsi conformance provider: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  process.stdout.write(`provider conformance: unix://${options.socket} with SecretProviderClass ${options.spc.namespace}/${options.spc.name} (provider ${options.spc.provider})\n`);
  let run;
  try {
    run = await runProviderKit(options);
  } catch (err) {
    process.stderr.write(`sscsi conformance provider: ${(err as Error).message}\n`);
    return 1;
  }
  return finishKit(run, { junit: values.junit, json: values.json });
}

export async function conformanceCommand(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case 'provider':
      return conformanceProvider(argv.slice(1));
    case 'driver':
      return conformanceDriver(argv.slice(1));
    case '--help':
    case '-h':
      process.stdout.write(`${conformanceUsage}\n${providerConformanceUsage}\n${driverConformanceUsage}`);
      return 0;
    default:
      process.stderr.write(`sscsi conformance: unknown command ${JSON.stringify(argv[0] ?? '')}\n${conformanceUsage}`);
      return 2;
  }
}
