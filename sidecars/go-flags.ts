/**
 * Go's flag syntax, as the sidecars' DaemonSet args write it, for node:util parseArgs:
 * `--flag=value`, `--flag value`, single-dash `-flag` and `-v=2`, booleans as `--flag`,
 * `--flag=true` or `--flag=false`. An unknown flag is an error naming it.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

function normalize(argv: readonly string[], booleans: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === '--' || !arg.startsWith('-') || arg === '-') {
      out.push(arg);
      continue;
    }
    // Go accepts -flag as well as --flag; parseArgs wants --flag for long names.
    let a = /^-[^-]/.test(arg) ? `-${arg}` : arg;
    const eq = a.indexOf('=');
    const name = (eq === -1 ? a : a.slice(0, eq)).replace(/^--?/, '');
    if (booleans.has(name) && eq !== -1) {
      const value = a.slice(eq + 1).toLowerCase();
      if (['true', '1', 't'].includes(value)) a = `--${name}`;
      else if (['false', '0', 'f'].includes(value)) a = `--no-${name}`;
      else throw new Error(`invalid boolean value ${JSON.stringify(a.slice(eq + 1))} for --${name}: use true or false`);
    }
    out.push(a);
  }
  return out;
}

/** Parses `argv` against `options` (long names only); throws a one-line error on a bad or unknown flag. */
export function parseGoFlags<T extends ParseArgsOptionsConfig>(argv: readonly string[], options: T, program: string) {
  const booleans = new Set(Object.entries(options).filter(([, o]) => o.type === 'boolean').map(([k]) => k));
  try {
    return parseArgs({ args: normalize(argv, booleans), options, strict: true, allowPositionals: false, allowNegative: true }).values;
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/\. To specify.*$/s, '')}\nRun ${program} --help to see the flags.`);
  }
}
