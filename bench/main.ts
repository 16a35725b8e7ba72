#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --only GROUP ...]`: runs the benchmark
 * groups, prints a table and optionally writes the JSON document of report.ts.
 */
import { parseArgs } from 'node:util';
import { formatTable, machineInfo, writeJson, type SuiteResult } from './report.js';
import { runNodePublishSuites } from './suites/node-publish.js';
import { runRotationSuites } from './suites/rotation.js';
import { runSimClusterSuites } from './suites/sim-cluster.js';

interface RunContext {
  quick: boolean;
  iterations: number | undefined;
  log: (line: string) => void;
}

const groups: Record<string, (ctx: RunContext) => Promise<SuiteResult[]>> = {
  'node-publish': (ctx) =>
    runNodePublishSuites({ objects: 10, objectBytes: 1024, iterations: ctx.iterations ?? (ctx.quick ? 50 : 300), timeMs: ctx.quick ? 0 : 3000, log: ctx.log }),
  rotation: (ctx) => runRotationSuites({ volumes: 100, passes: ctx.quick ? 2 : 10, log: ctx.log }),
  'sim-cluster': (ctx) => runSimClusterSuites({ starts: ctx.quick ? 1 : 5, pods: ctx.iterations ?? (ctx.quick ? 10 : 60), log: ctx.log }),
};

const usage = `usage: npm run bench -- [--quick] [--json FILE] [--only GROUP]... [--iterations N]
groups: ${Object.keys(groups).join(', ')}`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        only: { type: 'string', multiple: true },
        iterations: { type: 'string' },
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
  const selected = args.only ?? Object.keys(groups);
  const unknown = selected.filter((g) => !(g in groups));
  if (unknown.length > 0) {
    console.error(`unknown benchmark group ${unknown.join(', ')}\n${usage}`);
    return 2;
  }
  const iterations = args.iterations === undefined ? undefined : Number(args.iterations);
  if (iterations !== undefined && !(Number.isInteger(iterations) && iterations > 0)) {
    console.error(`--iterations must be a positive integer, got ${args.iterations}`);
    return 2;
  }
  const machine = machineInfo();
  console.log(`node ${machine.node} on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryMb} MiB${machine.root ? ', root' : ''}${args.quick ? ' (quick)' : ''}`);
  const ctx: RunContext = { quick: args.quick, iterations, log: (line) => console.log(line) };
  const suites: SuiteResult[] = [];
  for (const name of selected) suites.push(...(await groups[name]!(ctx)));
  console.log(`\n${formatTable(suites)}`);
  if (args.json) {
    await writeJson(args.json, machine, suites);
    console.log(`\nwrote ${args.json}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
