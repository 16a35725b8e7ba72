/**
 * Structured logging for every process of the project (pino).
 *
 * Contract: callers log identifiers (pod, namespace, SPC, provider, object ids and
 * versions, paths, durations) and never request payloads. As a second line of defence the
 * redaction paths below blank any field that could carry secret bytes should one slip in.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Field names that may carry secret material; pino replaces their values. */
export const redactedPaths = [
  'secrets',
  '*.secrets',
  'contents',
  '*.contents',
  'files[*].contents',
  'attributes',
  '*.attributes',
  'token',
  '*.token',
  'password',
  '*.password',
];

export interface LoggerConfig {
  /** Component name, the `component` field of every line. */
  name: string;
  /** klog-style verbosity (0 = info, 1..4 = debug, 5+ = trace) or a pino level name. */
  level?: string | number;
  /** One JSON object per line (the default), or a single human-readable line. */
  json?: boolean;
  /** Where to write; standard error by default so standard output stays for data. */
  destination?: number | NodeJS.WritableStream;
}

function levelOf(level: string | number | undefined): string {
  if (level === undefined) return process.env.LOG_LEVEL ?? 'info';
  if (typeof level === 'number' || /^\d+$/.test(level)) {
    const v = Number(level);
    return v >= 5 ? 'trace' : v >= 1 ? 'debug' : 'info';
  }
  return level;
}

/** A single human-readable line per record: time level component msg key=value... */
function textStream(out: NodeJS.WritableStream | number): NodeJS.WritableStream {
  const dest = typeof out === 'number' ? pino.destination({ fd: out, sync: true }) : out;
  const labels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  const skip = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component']);
  return {
    write(chunk: string): boolean {
      const rec = JSON.parse(chunk) as Record<string, unknown>;
      const fields = Object.entries(rec)
        .filter(([k]) => !skip.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`)
        .join(' ');
      const time = new Date(rec.time as number).toISOString();
      dest.write(`${time} ${labels[rec.level as number] ?? rec.level} ${String(rec.component)}: ${String(rec.msg ?? '')}${fields ? ' ' + fields : ''}\n`);
      return true;
    },
  } as NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: levelOf(config.level),
    base: { component: config.name },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.epochTime,
  };
  const out = config.destination ?? 2;
  if (config.json === false) return pino(options, textStream(out));
  return pino(options, typeof out === 'number' ? pino.destination({ fd: out, sync: true }) : out);
}
