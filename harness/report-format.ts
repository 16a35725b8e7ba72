/**
 * The report formats the scenarios and the conformance kits share, so CI reads both the
 * same way: a plain text table, JUnit XML (testsuites → testsuite → testcase with
 * properties, skipped, failure and system-out) and the files written when asked.
 */
import { writeFile } from 'node:fs/promises';

/** A duration as the tables show it: ms below 10 s, seconds above. */
export const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);

/** Text escaped for an XML attribute or element, characters XML cannot carry dropped. */
export const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]/gu, '');

/**
 * Columns padded to their widest cell, each capped at `maxWidths[i]`; `rightAlign` is the
 * column padded on the left (durations). With `truncate`, a cell over its cap is cut with …
 * (otherwise it overflows). Returns the header, a rule, and the rows.
 */
export function textTable(header: string[], rows: string[][], options: { maxWidths: number[]; rightAlign: number; truncate?: boolean }): string[] {
  const widths = header.map((h, i) => Math.min(options.maxWidths[i]!, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const cell = (c: string, i: number) =>
    options.truncate && c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : i === options.rightAlign ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
  const line = (cells: string[]) => cells.map(cell).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export interface JunitCase {
  classname: string;
  name: string;
  durationMs: number;
  properties: Record<string, string | number>;
  /** The reason, for a skipped case. */
  skipped?: string | undefined;
  failure?: { message: string; type: string; text: string } | undefined;
  systemOut?: string | undefined;
}

export interface JunitSuite {
  name: string;
  durationMs: number;
  cases: JunitCase[];
}

function testcase(c: JunitCase): string {
  const props = Object.entries(c.properties).map(([k, v]) => `        <property name="${xml(k)}" value="${xml(String(v))}"/>`);
  const body = [
    ...(props.length ? ['      <properties>', ...props, '      </properties>'] : []),
    ...(c.skipped !== undefined ? [`      <skipped message="${xml(c.skipped)}"/>`] : []),
    ...(c.failure ? [`      <failure message="${xml(c.failure.message)}" type="${xml(c.failure.type)}">${xml(c.failure.text)}</failure>`] : []),
    ...(c.systemOut !== undefined ? [`      <system-out>${xml(c.systemOut)}</system-out>`] : []),
  ];
  return `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${(c.durationMs / 1000).toFixed(3)}"${body.length ? `>\n${body.join('\n')}\n    </testcase>` : '/>'}`;
}

/** A JUnit document: one testsuite per suite, counts derived from the cases. */
export function junitDocument(name: string, durationMs: number, suites: JunitSuite[]): string {
  const count = (cases: JunitCase[], what: 'failure' | 'skipped') => cases.filter((c) => c[what] !== undefined).length;
  const body = suites.map(
    (s) =>
      `  <testsuite name="${xml(s.name)}" tests="${s.cases.length}" failures="${count(s.cases, 'failure')}" errors="0" skipped="${count(s.cases, 'skipped')}" time="${(s.durationMs / 1000).toFixed(3)}">\n${s.cases.map(testcase).join('\n')}\n  </testsuite>`,
  );
  const all = suites.flatMap((s) => s.cases);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xml(name)}" tests="${all.length}" failures="${count(all, 'failure')}" time="${(durationMs / 1000).toFixed(3)}">\n${body.join('\n')}\n</testsuites>\n`;
}

export interface ReportFiles {
  junit?: string | undefined;
  json?: string | undefined;
}

/** Prints the table, writes the JUnit and JSON files that were asked for, and says where they are. */
export async function emitReports(table: string, files: ReportFiles, junit: () => string, json: unknown, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  out.write(`\n${table}\n`);
  if (files.junit) await writeFile(files.junit, junit());
  if (files.json) await writeFile(files.json, `${JSON.stringify(json, null, 2)}\n`);
  if (files.junit) out.write(`JUnit: ${files.junit}\n`);
  if (files.json) out.write(`JSON: ${files.json}\n`);
}
