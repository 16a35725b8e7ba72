/**
 * Runs csi-sanity (kubernetes-csi/csi-test) against a driver: the world it needs
 * (sanity-world.ts), the driver under test started in it (ours from dist/, or any binary
 * taking upstream's flags), then csi-sanity on the driver's socket with the node-only skips,
 * writing its JUnit where asked and a Ginkgo JSON report the counts are read from. Everything
 * started is stopped and every mount unmounted, also on failure or Ctrl-C.
 */
import { access, constants, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { root, startCommand } from '../../harness/managed-process.js';
import { startDriverUnderTest, type StartedDriver } from '../driver/driver-under-test.js';
import { countSpecs, readSanityReport, type SanityCounts, type SpecOutcome } from './sanity-report.js';
import { ginkgoSkip, nodeOnlySkips } from './sanity-skips.js';
import { startSanityWorld } from './sanity-world.js';

/** Where `npm run peers` builds csi-sanity. */
export const defaultSanityBin = join(root, '.peers', 'bin', 'csi-sanity');

export interface SanityRun {
  /** A driver binary taking upstream's flags; default ours. */
  driverBin?: string | undefined;
  driverArgs?: readonly string[];
  /** The csi-sanity binary; default `.peers/bin/csi-sanity`. */
  sanityBin?: string | undefined;
  /** Where csi-sanity writes its JUnit XML. */
  junit: string;
  stateDir?: string | undefined;
  nodeId: string;
  /** How long to wait for the driver's socket. */
  waitMs: number;
  /** A `-ginkgo.skip` pattern replacing the node-only skips ('' runs every spec). */
  skipPattern?: string;
  out?: NodeJS.WritableStream;
  signal?: AbortSignal | undefined;
}

export interface SanityResult {
  target: string;
  skipPattern: string;
  counts: SanityCounts;
  specs: SpecOutcome[];
  /** csi-sanity's exit code. */
  exitCode: number | string;
  durationMs: number;
  /** What csi-sanity printed (its tail), for a run that produced no report. */
  output: string;
}

export async function runSanity(run: SanityRun): Promise<SanityResult> {
  const sanityBin = resolve(run.sanityBin ?? defaultSanityBin);
  await access(sanityBin, constants.X_OK).catch(() => {
    throw new Error(`csi-sanity is not at ${sanityBin}: build it with \`npm run peers\` (its reason is in .peers/status.json) or pass --sanity-bin`);
  });
  const junit = resolve(run.junit);
  await mkdir(dirname(junit), { recursive: true });
  const started = Date.now();
  const world = await startSanityWorld({ stateDir: run.stateDir, nodeId: run.nodeId });
  let driver: StartedDriver | undefined;
  try {
    driver = await startDriverUnderTest(world.env, { driverBin: run.driverBin, driverArgs: run.driverArgs ?? [], waitMs: run.waitMs, signal: run.signal });
    run.out?.write(`started ${driver.target} on unix://${driver.socket}\n`);
    const skipPattern = run.skipPattern ?? ginkgoSkip(nodeOnlySkips);
    const jsonReport = join(world.env.root, 'sanity', 'ginkgo-report.json');
    await rm(jsonReport, { force: true }); // a report left in a reused --state-dir is not this run's
    const args = [
      `--csi.endpoint=unix://${driver.socket}`,
      `--csi.testvolumeparameters=${world.volumeParametersFile}`,
      `--csi.mountdir=${world.mountDir}`,
      `--csi.stagingdir=${world.stagingDir}`,
      `-ginkgo.skip=${skipPattern}`,
      `--ginkgo.junit-report=${junit}`,
      `--ginkgo.json-report=${jsonReport}`,
      '--ginkgo.no-color',
      '--ginkgo.timeout=10m',
    ];
    run.out?.write(`csi-sanity -ginkgo.skip=${skipPattern}\n`);
    const sanity = startCommand(sanityBin, args, { logFile: join(world.env.root, 'sanity', 'csi-sanity.log') });
    const onAbort = () => void sanity.kill('SIGTERM');
    run.signal?.addEventListener('abort', onAbort, { once: true });
    const exitCode = await sanity.exited().finally(() => run.signal?.removeEventListener('abort', onAbort));
    if (run.signal?.aborted) throw new Error('interrupted: csi-sanity was stopped');
    const output = `${sanity.stdout()}${sanity.stderr()}`.slice(-4000);
    const specs = await readSanityReport(jsonReport).catch((err: Error) => {
      throw new Error(`csi-sanity (exit ${exitCode}) wrote no report (${err.message}); its output ends:\n${output}`);
    });
    return { target: driver.target, skipPattern, counts: countSpecs(specs), specs, exitCode, durationMs: Date.now() - started, output };
  } finally {
    await driver?.stop();
    await world.close();
  }
}
