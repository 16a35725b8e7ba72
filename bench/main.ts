#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --html FILE] [-- --only GROUP ...]
 * [-- --compare upstream]`: runs the benchmark groups, prints a table and optionally writes
 * the JSON document of report.ts and the HTML report of html-report.ts. `--compare upstream`
 * runs the groups that can compare for upstream's driver too (bench/driver-under-test.ts),
 * in the same rounds, and adds `driver` and `vsUpstream` to the rows (bench/vs-upstream.ts).
 */
import { parseArgs } from 'node:util';
import { isRoot } from '../harness/temp-root.js';
import { findUpstreamDriver, type DriverUnderTest } from './driver-under-test.js';
import { comparedGroups, groups, quickGroups, runGroups, unknownGroups } from './groups.js';
import { writeHtml } from './html-report.js';
import { formatTable, machineInfo, writeJson } from './report.js';
import { isPositiveInteger, runCli } from './run-cli.js';
import { withVsUpstream } from './vs-upstream.js';

const usage = `usage: npm run bench -- [--quick] [--json FILE] [--html FILE] [--only GROUP]... [--iterations N] [--compare upstream] [--k8s-state-dir DIR]
groups: ${Object.keys(groups).join(', ')} (--quick runs ${quickGroups.join(', ')} briefly)
--compare upstream: ${comparedGroups.join(', ')} for our driver and upstream's v1.6.0 (npm run peers builds it), side by side
--k8s-state-dir DIR: pod-startup measures the real node of sscsi k8s up --state-dir DIR beside the sim`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        only: { type: 'string', multiple: true },
        iterations: { type: 'string' },
        html: { type: 'string' },
        compare: { type: 'string' },
        'k8s-state-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  if (args.compare !== undefined && args.compare !== 'upstream') {
    console.error(`--compare takes upstream (the only driver to compare with), got ${args.compare}\n${usage}`);
    return 2;
  }
  const compare = args.compare !== undefined;
  const selected = args.only ?? (compare ? comparedGroups : args.quick ? quickGroups : Object.keys(groups));
  const unknown = unknownGroups(selected);
  if (unknown.length > 0) {
    console.error(`unknown benchmark group ${unknown.join(', ')}\n${usage}`);
    return 2;
  }
  const uncompared = compare ? selected.filter((g) => !comparedGroups.includes(g)) : [];
  if (uncompared.length > 0) {
    console.error(`--compare upstream runs ${comparedGroups.join(', ')}; not ${uncompared.join(', ')}\n${usage}`);
    return 2;
  }
  const others: DriverUnderTest[] = [];
  if (compare) {
    const found = await findUpstreamDriver();
    if ('missing' in found) {
      console.error(`--compare upstream: ${found.missing}`);
      return 1;
    }
    if (!isRoot) {
      console.error(`--compare upstream: upstream's driver mounts tmpfs for every volume, which needs root on Linux; run the benchmark as root`);
      return 1;
    }
    others.push(found.driver);
  }
  const iterations = args.iterations === undefined ? undefined : Number(args.iterations);
  if (iterations !== undefined && !isPositiveInteger(iterations)) {
    console.error(`--iterations must be a positive integer, got ${args.iterations}`);
    return 2;
  }
  const machine = machineInfo();
  console.log(`node ${machine.node} on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryMb} MiB${machine.root ? ', root' : ''}${args.quick ? ' (quick)' : ''}${compare ? ', compared with upstream v1.6.0' : ''}`);
  const k8sStateDir = args['k8s-state-dir'];
  if (k8sStateDir !== undefined && !selected.includes('pod-startup')) {
    console.error(`--k8s-state-dir is for the pod-startup group (add --only pod-startup)\n${usage}`);
    return 2;
  }
  const measured = await runGroups(selected, { quick: args.quick, iterations, others, ...(k8sStateDir !== undefined ? { k8sStateDir } : {}), log: (line) => console.log(line) });
  const suites = compare ? withVsUpstream(measured) : measured;
  console.log(`\n${formatTable(suites)}`);
  if (args.json) {
    await writeJson(args.json, machine, suites);
    console.log(`\nwrote ${args.json}`);
  }
  if (args.html) {
    await writeHtml(args.html, machine, suites);
    console.log(`wrote ${args.html}`);
  }
  return 0;
}

runCli(main);
