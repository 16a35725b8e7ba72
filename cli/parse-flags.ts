/**
 * The prelude every sscsi command shares: its flags parsed strictly, a mistake printed with
 * the usage (exit 2), --help / -h printing the usage (exit 0).
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export type ParsedFlags<V> = { values: V; exit?: undefined } | { exit: number };

/** `command` prefixes the error line, e.g. "sscsi kind up". */
export function parseFlags<V>(command: string, usage: string, args: string[], options: ParseArgsOptionsConfig): ParsedFlags<V> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h', default: false } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    process.stderr.write(`${command}: ${(err as Error).message}\n${usage}`);
    return { exit: 2 };
  }
  if (values.help) {
    process.stdout.write(usage);
    return { exit: 0 };
  }
  return { values: values as V };
}
