#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --only GROUP ...]`: runs the benchmark
 * groups, prints a table and optionally writes the JSON document of report.ts.
 */
import { parseArgs } from 'node:util';
import { groups, quickGroups, runGroups, unknownGroups } from './groups.js';
import { formatTable, machineInfo, writeJson } from './report.js';
import { isPositiveInteger, runCli } from './run-cli.js';

const usage = `usage: npm run bench -- [--quick] [--json FILE] [--only GROUP]... [--iterations N]
groups: ${Object.keys(groups).join(', ')} (--quick runs ${quickGroups.join(', ')} briefly)`;

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
  const selected = args.only ?? (args.quick ? quickGroups : Object.keys(groups));
  const unknown = unknownGroups(selected);
  if (unknown.length > 0) {
    console.error(`unknown benchmark group ${unknown.join(', ')}\n${usage}`);
    return 2;
  }
  const iterations = args.iterations === undefined ? undefined : Number(args.iterations);
  if (iterations !== undefined && !isPositiveInteger(iterations)) {
    console.error(`--iterations must be a positive integer, got ${args.iterations}`);
    return 2;
  }
  const machine = machineInfo();
  console.log(`node ${machine.node} on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryMb} MiB${machine.root ? ', root' : ''}${args.quick ? ' (quick)' : ''}`);
  const suites = await runGroups(selected, { quick: args.quick, iterations, log: (line) => console.log(line) });
  console.log(`\n${formatTable(suites)}`);
  if (args.json) {
    await writeJson(args.json, machine, suites);
    console.log(`\nwrote ${args.json}`);
  }
  return 0;
}

runCli(main);
