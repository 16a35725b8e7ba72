/**
 * `--html FILE`: one self-contained HTML page of a benchmark run — the table, and charts
 * drawn by Apache ECharts' server-side SVG renderer (inline SVG, nothing fetched when the
 * page is viewed): latency distributions per suite (percentile curves, one line per
 * driver), each storm's completed publishes over time and the drivers' RSS during it, and
 * the memory rows.
 */
import { writeFile } from 'node:fs/promises';
import * as echarts from 'echarts';
import type { DriverName } from './driver-under-test.js';
import type { MachineInfo, SuiteResult } from './report.js';
import { isFloor } from './suite-names.js';

type Option = echarts.EChartsOption;

const colors: Record<DriverName, string> = { ours: '#2563eb', upstream: '#ea580c', ref: '#6b7280' };
const driverOf = (s: SuiteResult): DriverName => s.driver ?? 'ours';

function svg(option: Option, width = 620, height = 320): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, backgroundColor: '#fff', textStyle: { fontFamily: 'sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The q-th percentile (0..100) of ascending `sorted`, nearest rank. */
const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))]!;

/** Rows grouped by suite name, in the order they first appear. */
function byName(suites: SuiteResult[], keep: (s: SuiteResult) => boolean): Map<string, SuiteResult[]> {
  const groups = new Map<string, SuiteResult[]>();
  for (const s of suites.filter(keep)) groups.set(s.name, [...(groups.get(s.name) ?? []), s]);
  return groups;
}

function latencyChart(name: string, rows: SuiteResult[]): string {
  const series = rows.map((r) => {
    const sorted = [...r.trace!.latenciesMs!].sort((a, b) => a - b);
    const data = Array.from({ length: 101 }, (_, q) => [q, percentile(sorted, q)]);
    return { name: driverOf(r), type: 'line' as const, showSymbol: false, step: 'end' as const, data, color: colors[driverOf(r)] };
  });
  const all = rows.flatMap((r) => r.trace!.latenciesMs!);
  const spread = Math.max(...all) / Math.max(1e-3, Math.min(...all));
  return svg({
    title: { text: name, subtext: rows.map((r) => `${driverOf(r)}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, n=${r.samples}`).join('\n'), left: 10, textStyle: { fontSize: 14 }, subtextStyle: { fontSize: 11 } },
    legend: { top: 6, right: 10 },
    grid: { top: 92, left: 70, right: 30, bottom: 50 },
    xAxis: { type: 'value', name: 'percentile', nameLocation: 'middle', nameGap: 28, min: 0, max: 100 },
    yAxis: { type: spread > 30 ? 'log' : 'value', name: 'ms', min: spread > 30 ? undefined : 0 },
    series,
  });
}

function stormCompletionsChart(name: string, rows: SuiteResult[]): string {
  return svg({
    title: { text: `${name}: completed publishes over time`, subtext: rows.map((r) => `${driverOf(r)}: first done after ${r.extra?.firstDoneMs ?? '?'} ms, all after ${r.extra?.totalMs ?? '?'} ms, ${r.extra?.errors ?? 0} errors`).join('\n'), left: 10, textStyle: { fontSize: 14 }, subtextStyle: { fontSize: 11 } },
    legend: { top: 6, right: 10 },
    grid: { top: 92, left: 70, right: 30, bottom: 50 },
    xAxis: { type: 'value', name: 'ms since the storm was fired', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'completed', min: 0 },
    series: rows.map((r) => ({
      name: driverOf(r),
      type: 'line' as const,
      showSymbol: false,
      step: 'end' as const,
      color: colors[driverOf(r)],
      data: [[0, 0], ...r.trace!.completionsMs!.map((t, i) => [t, i + 1])],
    })),
  });
}

function stormRssChart(name: string, rows: SuiteResult[]): string {
  return svg({
    title: { text: `${name}: driver RSS during the storm`, subtext: rows.map((r) => `${driverOf(r)}: peak ${r.rssMb?.toFixed(1) ?? '-'} MiB`).join('\n'), left: 10, textStyle: { fontSize: 14 }, subtextStyle: { fontSize: 11 } },
    legend: { top: 6, right: 10 },
    grid: { top: 92, left: 70, right: 30, bottom: 50 },
    xAxis: { type: 'value', name: 'ms since the storm was fired', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'MiB', min: 0 },
    series: rows.map((r) => ({ name: driverOf(r), type: 'line' as const, showSymbol: false, color: colors[driverOf(r)], data: r.trace!.rss! })),
  });
}

function memoryChart(rows: SuiteResult[]): string {
  const names = [...new Set(rows.map((r) => r.name))];
  const drivers = [...new Set(rows.map(driverOf))];
  return svg(
    {
      title: { text: 'driver RSS: idle and with volumes mounted', left: 10, textStyle: { fontSize: 14 } },
      legend: { top: 6, right: 10 },
      grid: { top: 60, left: 70, right: 30, bottom: 40 },
      xAxis: { type: 'category', data: names },
      yAxis: { type: 'value', name: 'MiB', min: 0 },
      series: drivers.map((d) => ({
        name: d,
        type: 'bar' as const,
        color: colors[d],
        label: { show: true, position: 'top' as const, formatter: (p: { value: unknown }) => (typeof p.value === 'number' ? p.value.toFixed(1) : '') },
        data: names.map((n) => rows.find((r) => r.name === n && driverOf(r) === d)?.rssMb ?? null),
      })),
    },
    620,
    320,
  );
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(digits));

function table(suites: SuiteResult[]): string {
  const head = ['suite', 'driver', 'p50 ms', 'p99 ms', 'max ms', 'ops/s', 'RSS MiB', 'total ms', 'n', 'p50 ours/up', 'RSS ours/up'];
  const rows = suites.map((s) =>
    [s.name, driverOf(s), fmt(s.p50Ms), fmt(s.p99Ms), fmt(s.maxMs), fmt(s.opsPerSec, 0), fmt(s.rssMb, 1), typeof s.extra?.totalMs === 'number' ? String(s.extra.totalMs) : '–', String(s.samples), fmt(s.vsUpstream?.p50), fmt(s.vsUpstream?.rss)]
      .map((c, i) => `<td${i > 1 ? ' class="n"' : ''}>${escape(c)}</td>`)
      .join(''),
  );
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r}</tr>`).join('\n')}</tbody></table>`;
}

const compareNotes = `Upstream: secrets-store-csi-driver v1.6.0 (Go), started with its own flags only; its memory is RSS only.
Its API client allows 20 requests/s with bursts of 30 (controller-runtime's defaults) and every publish writes the pod status,
so storms past ~30 publishes and republish passes run at that pace. <b>rotation republish</b>: NodePublishVolume again on every
mounted volume, one after another (the kubelet's republish), for both drivers (ours in the benchmark's process, so no RSS);
<b>rotation pass</b>: our driver-side poller, which upstream does not have.`;

/** The page for `suites`, as a string. */
export function renderHtml(machine: MachineInfo, suites: SuiteResult[]): string {
  const latency = byName(suites, (s) => (s.trace?.latenciesMs?.length ?? 0) > 0 && !isFloor(s.name));
  const storms = byName(suites, (s) => (s.trace?.completionsMs?.length ?? 0) > 0);
  const memory = suites.filter((s) => s.name.startsWith('driver ') && s.rssMb !== null);
  const section = (title: string, charts: string[]) => (charts.length ? `<h2>${title}</h2><div class="charts">${charts.map((c) => `<figure>${c}</figure>`).join('\n')}</div>` : '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>secrets-store-csi-ts benchmarks</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #111; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f4f6; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #e5e7eb; }
</style></head><body>
<h1>secrets-store-csi-ts benchmarks</h1>
<p>${escape(machine.date)} — node ${escape(machine.node)} on ${machine.cpus} × ${escape(machine.cpuModel)}, ${machine.memoryMb} MiB${machine.root ? ', root' : ''}.
Ratios are ours / upstream (below 1: ours is faster or smaller). Timings on a shared machine move with its load; read ratios, not absolute times.</p>
${suites.some((s) => s.driver === 'upstream') ? `<p>${compareNotes}</p>` : ''}
${table(suites)}
${section('Latency distributions', [...latency].map(([name, rows]) => latencyChart(name, rows)))}
${section('Storms: completed publishes over time', [...storms].map(([name, rows]) => stormCompletionsChart(name, rows)))}
${section('Storms: driver RSS', [...storms].filter(([, rows]) => rows.every((r) => r.trace?.rss?.length)).map(([name, rows]) => stormRssChart(name, rows)))}
${section('Memory', memory.length ? [memoryChart(memory)] : [])}
</body></html>
`;
}

export async function writeHtml(path: string, machine: MachineInfo, suites: SuiteResult[]): Promise<void> {
  await writeFile(path, renderHtml(machine, suites));
}
