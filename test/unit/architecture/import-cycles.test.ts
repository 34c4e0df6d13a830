// No module of the project imports itself through others. A cycle makes the load order decide what
// is initialised (a value read before its module has run is undefined), and it hides which side
// depends on which, so neither can be understood or tested alone.
//
// Every import counts, `import type` too: a type-only cycle costs nothing at run time, but it ties
// the two modules' designs together all the same, and becomes a run-time cycle the day one side
// needs a value from the other. `export ... from`, `import x = require()`, `import('...')` types and
// dynamic `import('...')` with a literal path count as well, so a cycle cannot be hidden by loading
// one side late. (The runner loads roles by a path computed at run time: no static edge to follow.)
//
// The files are the ones the typecheck covers (tsconfig.json's include: src, roles, scripts, test),
// and the imports are resolved by the TypeScript compiler as tsc resolves them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/project.ts';

interface ImportEdge {
  /** absolute path of the importing file */
  from: string;
  /** absolute path of the imported file */
  to: string;
  /** line of the import in `from`, 1-based */
  line: number;
}

/** Each project file and the project files it imports, in the order written. */
function importGraph(tsconfig: string): Map<string, ImportEdge[]> {
  const config = ts.getParsedCommandLineOfConfigFile(tsconfig, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(`${tsconfig}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    },
  });
  if (config === undefined) throw new Error(`${tsconfig}: not readable`);
  const files = new Set(config.fileNames.map((file) => path.resolve(file)));
  const cache = ts.createModuleResolutionCache(path.dirname(tsconfig), (name) => name, config.options);
  const graph = new Map<string, ImportEdge[]>();
  for (const from of files) {
    const text = ts.sys.readFile(from) ?? '';
    const source = ts.createSourceFile(from, text, ts.ScriptTarget.Latest);
    const edges: ImportEdge[] = [];
    for (const specifier of moduleSpecifiers(source)) {
      // A bare name is a package (there are no path aliases); resolving it would only search node_modules.
      if (!specifier.text.startsWith('.') && !path.isAbsolute(specifier.text)) continue;
      const resolved = ts.resolveModuleName(specifier.text, from, config.options, ts.sys, cache).resolvedModule;
      if (resolved === undefined || resolved.isExternalLibraryImport) continue;
      const to = path.resolve(resolved.resolvedFileName);
      if (files.has(to)) edges.push({ from, to, line: source.getLineAndCharacterOfPosition(specifier.getStart(source)).line + 1 });
    }
    graph.set(from, edges);
  }
  return graph;
}

/** The module names a file imports, in every form that makes it depend on the module. */
function moduleSpecifiers(source: ts.SourceFile): ts.StringLiteralLike[] {
  const found: ts.StringLiteralLike[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteralLike(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteralLike(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteralLike(node.argument.literal)) {
      found.push(node.argument.literal);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteralLike(argument)) found.push(argument);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * One cycle per knot of mutually dependent modules (a strongly connected component, Tarjan's
 * algorithm): the shortest one through the knot's first module, so the report names a path to cut.
 */
function importCycles(graph: ReadonlyMap<string, readonly ImportEdge[]>): ImportEdge[][] {
  const order = new Map<string, number>();
  const lowest = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const knots: string[][] = [];
  const connect = (file: string): void => {
    order.set(file, order.size);
    lowest.set(file, order.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const { to } of graph.get(file) ?? []) {
      if (!order.has(to)) {
        connect(to);
        lowest.set(file, Math.min(lowest.get(file)!, lowest.get(to)!));
      } else if (onStack.has(to)) {
        lowest.set(file, Math.min(lowest.get(file)!, order.get(to)!));
      }
    }
    if (lowest.get(file) !== order.get(file)) return;
    const knot: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      knot.push(member);
    } while (member !== file);
    const importsItself = (graph.get(file) ?? []).some(({ to }) => to === file);
    if (knot.length > 1 || importsItself) knots.push(knot.sort());
  };
  for (const file of graph.keys()) if (!order.has(file)) connect(file);
  return knots.map((knot) => shortestCycle(graph, knot[0]!, new Set(knot))).sort((a, b) => a[0]!.from.localeCompare(b[0]!.from));
}

/** Breadth-first from `start` back to itself, through the knot's members only. */
function shortestCycle(graph: ReadonlyMap<string, readonly ImportEdge[]>, start: string, knot: ReadonlySet<string>): ImportEdge[] {
  const reachedBy = new Map<string, ImportEdge>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const edge of graph.get(file) ?? []) {
      if (!knot.has(edge.to) || reachedBy.has(edge.to)) continue;
      reachedBy.set(edge.to, edge);
      if (edge.to === start) {
        const cycle = [edge];
        while (cycle[0]!.from !== start) cycle.unshift(reachedBy.get(cycle[0]!.from)!);
        return cycle;
      }
      queue.push(edge.to);
    }
  }
  throw new Error(`${start} is in a knot of imports but no cycle leads back to it`);
}

/** "a.ts:3 -> b.ts:7 -> a.ts": each file with the line of its import of the next one. */
function describeCycle(cycle: readonly ImportEdge[], root: string): string {
  const relative = (file: string) => path.relative(root, file);
  return [...cycle.map(({ from, line }) => `${relative(from)}:${line}`), relative(cycle[0]!.from)].join(' -> ');
}

// Parsing every file of the project takes seconds on a loaded machine.
describe('import cycles', { timeout: 60_000 }, () => {
  let projectGraph: Map<string, ImportEdge[]> | undefined;
  const project = () => (projectGraph ??= importGraph(path.join(repoRoot, 'tsconfig.json')));

  it('no module of the project imports itself through others (import type included)', () => {
    const graph = project();
    const cycles = importCycles(graph).map((cycle) => describeCycle(cycle, repoRoot));
    expect(
      cycles,
      'import cycles, each file with the line of its import of the next: move the piece both sides need into the module where it belongs (not behind a dynamic import)',
    ).toEqual([]);
  });

  it('the graph is the real project: every source directory, with its type-only imports', () => {
    const graph = project();
    const files = [...graph.keys()].map((file) => path.relative(repoRoot, file));
    for (const directory of ['src', 'roles', 'scripts', 'test']) expect(files.some((file) => file.startsWith(`${directory}/`)), directory).toBe(true);
    // an `import type` and nothing else: the edge the old cycle ran through
    const clusterLoader = graph.get(path.join(repoRoot, 'src/cluster/load.ts'))!.map(({ to }) => path.relative(repoRoot, to));
    expect(clusterLoader).toContain('src/inventory/model.ts');
  });

  it('finds a cycle through every form of import and names each import by file:line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'provision-import-cycles-'));
    try {
      const files: Record<string, string> = {
        'package.json': '{ "type": "module" }',
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true }, include: ['*.ts'] }),
        'a.ts': "import type { B } from './b.ts';\nexport type A = B;\n",
        'b.ts': "// b\nexport { c as b } from './c.ts';\nexport type B = number;\n",
        'c.ts': "\n\nexport const c = async () => (await import('./d.ts')).d;\n",
        'd.ts': "export type D = import('./e.ts').E;\nexport const d = 1;\n",
        'e.ts': "import fs = require('node:fs');\nimport type { A } from './a.ts';\nexport type E = A | typeof fs;\n",
        // imports the knot, is not part of it
        'outside.ts': "import type { A } from './a.ts';\nexport type Outside = A;\n",
        'self.ts': "export * from './self.ts';\n",
      };
      for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
      const cycles = importCycles(importGraph(path.join(dir, 'tsconfig.json'))).map((cycle) => describeCycle(cycle, dir));
      expect(cycles).toEqual(['a.ts:1 -> b.ts:2 -> c.ts:3 -> d.ts:1 -> e.ts:2 -> a.ts', 'self.ts:1 -> self.ts']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
