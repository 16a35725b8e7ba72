/**
 * `sscsi conformance provider|driver|sanity`: the conformance kits (and csi-sanity) from the command line. Each
 * prints a line per check as it runs, then the table; writes JUnit and JSON when asked;
 * exits 0 when nothing failed, 1 when a check failed or the kit could not run, 2 for bad usage.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { loadSpcFile } from '../harness/spc-file.js';
import { providerCheckIds, runProviderKit, type ProviderKitRun } from '../conformance/provider/run-provider-kit.js';
import { conformanceDriver, driverConformanceUsage } from './conformance-driver.js';
import { conformanceSanity, sanityUsage } from './conformance-sanity.js';
import { checkOnly, duration, positiveInt, runKitCommand, str, UsageError } from './kit-command.js';

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
  --strict                       (every provider check is of the contract: the same as without)

Exit: 0 when every check passed, 1 when one failed or the kit could not run, 2 for bad usage,
130 when interrupted.
`;

export const conformanceUsage = `Usage: sscsi conformance provider|driver|sanity [options]   (--help on each for its options)\n`;

async function secretsFile(path: string): Promise<Record<string, string>> {
  const doc = parseYaml(await readFile(path, 'utf8')) as unknown;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !Object.values(doc).every((v) => typeof v === 'string')) {
    throw new UsageError(`--secrets ${path} must hold a map of strings, e.g. {"username": "...", "password": "..."}`);
  }
  return doc as Record<string, string>;
}

function conformanceProvider(argv: string[]): Promise<number> {
  return runKitCommand<ProviderKitRun>(argv, {
    name: 'sscsi conformance provider',
    usage: providerConformanceUsage,
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
    },
    async prepare(v) {
      if (!v.socket || !v.spc) throw new UsageError('--socket and --spc are required');
      const only = v.only as string[] | undefined;
      checkOnly(only, providerCheckIds);
      return {
        socket: str(v.socket)!,
        spc: await loadSpcFile(str(v.spc)!),
        unknownSpc: v['unknown-spc'] ? await loadSpcFile(str(v['unknown-spc'])!) : undefined,
        deadlineMs: duration(str(v.deadline), '--deadline', 5000),
        timeoutMs: duration(str(v.timeout), '--timeout', 30_000),
        concurrency: positiveInt(str(v.concurrency), '--concurrency', 50, 1000),
        maxRecvBytes: positiveInt(str(v['max-call-recv-msg-size']), '--max-call-recv-msg-size', 4 * 1024 * 1024),
        ...(v.secrets ? { secrets: await secretsFile(str(v.secrets)!) } : {}),
        only,
        out: process.stdout,
      };
    },
    banner: (o) => `provider conformance: unix://${o.socket} with SecretProviderClass ${o.spc.namespace}/${o.spc.name} (provider ${o.spc.provider})`,
    run: (o, signal) => runProviderKit({ ...o, signal }),
  });
}

export async function conformanceCommand(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case 'provider':
      return conformanceProvider(argv.slice(1));
    case 'driver':
      return conformanceDriver(argv.slice(1));
    case 'sanity':
      return conformanceSanity(argv.slice(1));
    case '--help':
    case '-h':
      process.stdout.write(`${conformanceUsage}\n${providerConformanceUsage}\n${driverConformanceUsage}\n${sanityUsage}`);
      return 0;
    default:
      process.stderr.write(`sscsi conformance: unknown command ${JSON.stringify(argv[0] ?? '')}\n${conformanceUsage}`);
      return 2;
  }
}
