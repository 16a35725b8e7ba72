/**
 * `sscsi conformance sanity`: csi-sanity (the CSI community's conformance suite) against a
 * driver in a world the command starts (see conformance/sanity/). Prints each failed spec
 * with its message and one summary line; exits 0 only when no spec failed, 1 otherwise or
 * when the run could not happen, 2 for bad usage.
 */
import { defaultSanityBin, runSanity, type SanityResult } from '../conformance/sanity/run-sanity.js';
import { nodeOnlySkips } from '../conformance/sanity/sanity-skips.js';
import { duration, str, UsageError } from './kit-command.js';
import { parseFlags } from './parse-flags.js';

export const sanityUsage = `Usage: sscsi conformance sanity [--driver-bin PATH] [--junit FILE] [options]

Runs csi-sanity (kubernetes-csi/csi-test) against a CSI driver the command starts with the
upstream flags, in a world it starts too (an embedded API server with the CRDs, a
SecretProviderClass and a pod, a fake provider), skipping what a node-only, ephemeral-only
driver cannot do:
${nodeOnlySkips.map((s) => `  ${s.pattern}\n      ${s.reason}`).join('\n')}

Options:
  --driver-bin PATH   a driver binary taking the upstream flags (default: this package's driver)
  --driver-arg=FLAG   an extra flag for the driver (repeatable; note the =)
  --sanity-bin PATH   the csi-sanity binary (default ${defaultSanityBin}, built by npm run peers)
  --skip REGEX        replace the skip list above with this -ginkgo.skip pattern ('' runs every spec)
  --junit FILE        where csi-sanity writes its JUnit XML (default csi-sanity-junit.xml)
  --state-dir DIR     where the world lives (kubeconfig, provider socket, csi-sanity.log); default a temp dir removed after
  --node-id ID        the --nodeid the driver is given (default csi-sanity-node)
  --wait DURATION     how long to wait for the driver's socket (default 120s)
`;

function summary(r: SanityResult, junit: string): string {
  const { passed, failed, skipped, pending, total } = r.counts;
  const selfSkipped = r.specs.filter((s) => s.state === 'skipped' && s.message).length;
  const ok = failed === 0 && r.exitCode === 0;
  return `csi-sanity against ${r.target}: ${passed} passed, ${failed} failed, ${skipped} skipped (${skipped - selfSkipped} by -ginkgo.skip, ${selfSkipped} by csi-sanity for a capability not advertised)${pending ? `, ${pending} pending` : ''} of ${total} specs in ${(r.durationMs / 1000).toFixed(1)} s; JUnit ${junit}: ${ok ? 'PASS' : 'FAIL'}`;
}

export async function conformanceSanity(argv: string[]): Promise<number> {
  const parsed = parseFlags<Record<string, string | string[] | boolean | undefined>>('sscsi conformance sanity', sanityUsage, argv, {
    'driver-bin': { type: 'string' },
    'driver-arg': { type: 'string', multiple: true },
    'sanity-bin': { type: 'string' },
    junit: { type: 'string', default: 'csi-sanity-junit.xml' },
    'state-dir': { type: 'string' },
    'node-id': { type: 'string', default: 'csi-sanity-node' },
    wait: { type: 'string' },
    skip: { type: 'string' },
  });
  if (parsed.exit !== undefined) return parsed.exit;
  const v = parsed.values;
  let waitMs: number;
  try {
    waitMs = duration(str(v.wait), '--wait', 120_000);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`sscsi conformance sanity: ${err.message}\n`);
    return 2;
  }
  const junit = str(v.junit)!;
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: stopping csi-sanity, then cleaning up (again to exit now)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: SanityResult;
  try {
    result = await runSanity({
      driverBin: str(v['driver-bin']),
      driverArgs: (v['driver-arg'] as string[] | undefined) ?? [],
      sanityBin: str(v['sanity-bin']),
      junit,
      stateDir: str(v['state-dir']),
      nodeId: str(v['node-id'])!,
      waitMs,
      ...(v.skip !== undefined ? { skipPattern: str(v.skip)! } : {}),
      out: process.stdout,
      signal: abort.signal,
    });
  } catch (err) {
    process.stderr.write(`sscsi conformance sanity: ${(err as Error).message}\n`);
    return abort.signal.aborted ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  for (const s of result.specs.filter((x) => x.state === 'failed')) process.stdout.write(`✗ ${s.name}\n    ${(s.message ?? '').split('\n').slice(0, 6).join('\n    ')}\n`);
  if (result.counts.failed === 0 && result.exitCode !== 0) process.stdout.write(`csi-sanity exited ${result.exitCode} with no failed spec; its output ends:\n${result.output}\n`);
  process.stdout.write(`${summary(result, junit)}\n`);
  return result.counts.failed === 0 && result.exitCode === 0 ? 0 : 1;
}
