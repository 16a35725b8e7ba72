#!/usr/bin/env node
/** sscsi: the harness CLI, verb + noun like kubectl. Commands arrive issue by issue. */
import { runDemo } from './demo.js';

const usage = `Usage: sscsi <command>

Commands:
  demo     one publish end to end: embedded API server, fake provider and driver processes
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'demo':
      return runDemo();
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`sscsi: unknown command ${JSON.stringify(command)}\n${usage}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
