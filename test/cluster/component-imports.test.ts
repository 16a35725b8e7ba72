/**
 * No import cycles between the project's components (its top-level folders): a component
 * may use those below it, never one that uses it back. Every relative import and re-export
 * counts, type-only ones too — a type is a dependency on the module that states it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
/** Not components: tests may import anything; the rest is not source. */
const notComponents = new Set(['test', 'node_modules', 'dist']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.')) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const specifiers = (source: string) => [...source.matchAll(/\b(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);

/** component → component → the imports that make the edge (file → module). */
function componentGraph(projectRoot: string): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  const components = readdirSync(projectRoot, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && !notComponents.has(e.name));
  for (const c of components) {
    for (const file of sourceFiles(join(projectRoot, c.name))) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const target = relative(projectRoot, resolve(dirname(file), spec)).split(sep)[0]!;
        if (target === c.name || target.startsWith('..')) continue;
        const edges = graph.get(c.name) ?? new Map<string, string[]>();
        graph.set(c.name, edges);
        edges.set(target, [...(edges.get(target) ?? []), `${relative(projectRoot, file)} → ${spec}`]);
      }
    }
  }
  return graph;
}

/** Each cycle as the components on it, the first repeated at the end (a → b → a). */
function componentCycles(graph: Map<string, Map<string, string[]>>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const walk = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at >= 0) return void cycles.push([...path.slice(at), node]);
    if (done.has(node)) return;
    for (const next of graph.get(node)?.keys() ?? []) walk(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) walk(node, []);
  return cycles;
}

describe('component imports', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['sim', new Map([['cluster', ['sim/kubelet/kubelet.ts → ../../cluster/kubelet-layout.js']]])],
      ['cluster', new Map([['sim', ['cluster/sim/sim-cluster.ts → ../../sim/kubelet/kubelet.js']], ['harness', ['x']]])],
      ['harness', new Map()],
    ]);
    expect(componentCycles(graph)).toEqual([['sim', 'cluster', 'sim']]);
    expect(componentCycles(new Map([['a', new Map([['b', ['x']]])], ['b', new Map()]]))).toEqual([]);
  });

  it('has no cycle between the top-level components', () => {
    const graph = componentGraph(root);
    // The graph is read from the source, not empty by accident: cluster/ uses sim/ and harness/.
    expect([...(graph.get('cluster')?.keys() ?? [])]).toEqual(expect.arrayContaining(['sim', 'harness', 'kind']));
    const cycles = componentCycles(graph);
    const explain = cycles.map((c) => c.map((from, i) => (i + 1 < c.length ? `${from} → ${c[i + 1]} (${graph.get(from)!.get(c[i + 1]!)!.slice(0, 3).join('; ')})` : '')).filter(Boolean).join('\n  '));
    expect(explain, `import cycles between components:\n  ${explain.join('\n\n  ')}`).toEqual([]);
  });
});
