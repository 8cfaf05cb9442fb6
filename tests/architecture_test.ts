/**
 * The house rules of runtime/, checked against the real import graph (Deno's
 * own, from `deno info --json`, so type-only and dynamic imports count and
 * code inside template strings or comments does not).
 *
 * Every product file belongs to a room (a folder of runtime/, or one of the
 * files named below), and every room stands on a floor. A file may import
 * its own room and rooms on lower floors, never a room on its own floor or
 * above, and no files may import each other in a circle. Tests and
 * `_testing.ts` helpers are exempt. A file in a room that is not listed
 * fails too: place a new room on a floor here when you add it.
 * @module
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

/** Floors, bottom up. A room is a folder under runtime/ (`core`), or a file (`runtime/mod.ts`). */
const FLOORS: readonly (readonly string[])[] = [
  // The call contract and small leaves: they import nothing else of the runtime.
  ["core", "util"],
  // Leaves that know the user's files, not the call path.
  ["log", "config", "protos"],
  // The transport knows nothing of handlers; handler files are loaded without a server;
  // etcd's connection options and key layout serve registry/ and client/.
  ["transport", "handlers", "etcd"],
  // The call pipeline; the public API handler files import as "svc".
  ["server", "runtime/mod.ts"],
  // Built-ins, calling other services, and registering this one.
  [
    "interceptors",
    "metrics",
    "rate_limit",
    "overload",
    "tracing",
    "health",
    "reflection",
    "admin",
    "client",
    "registry",
  ],
  // The one composition root.
  ["app"],
  // The svc command (svc build lives in cli/build/: it loads the app to check it).
  ["cli"],
  ["main.ts"],
];

const ROOT = fromFileUrl(new URL("../", import.meta.url));

interface Edge {
  from: string;
  to: string;
  line: number;
  specifier: string;
}

function roomOf(file: string): string {
  if (!file.startsWith("runtime/")) return file;
  const rest = file.slice("runtime/".length);
  return rest.includes("/") ? rest.slice(0, rest.indexOf("/")) : file;
}

function floorOf(room: string): number {
  return FLOORS.findIndex((rooms) => rooms.includes(room));
}

function isProduct(file: string): boolean {
  const name = file.slice(file.lastIndexOf("/") + 1);
  return (file.startsWith("runtime/") || file === "main.ts") && file.endsWith(".ts") &&
    !name.endsWith("_test.ts") && name !== "_testing.ts";
}

async function productFiles(dir = join(ROOT, "runtime")): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await productFiles(path));
    else if (isProduct(relative(ROOT, path))) files.push(relative(ROOT, path));
  }
  return files.sort();
}

interface InfoModule {
  specifier: string;
  error?: string;
  dependencies?: {
    specifier: string;
    code?: { specifier?: string; error?: string; span: { start: { line: number } } };
    type?: { specifier?: string; error?: string; span: { start: { line: number } } };
  }[];
}

/** Every import between product files, from Deno's module graph. */
async function importGraph(files: readonly string[]): Promise<{ edges: Edge[]; errors: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "svc-architecture-" });
  try {
    const root = join(dir, "root.ts");
    await Deno.writeTextFile(
      root,
      files.map((f) => `import ${JSON.stringify(join(ROOT, f))};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", `--config=${join(ROOT, "deno.json")}`, root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, `deno info failed: ${new TextDecoder().decode(out.stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const local = (specifier: string) =>
      specifier.startsWith("file://") ? relative(ROOT, fromFileUrl(specifier)) : null;
    const edges: Edge[] = [];
    const errors: string[] = [];
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (from === null || !isProduct(from)) continue;
      for (const dep of module.dependencies ?? []) {
        for (const side of [dep.code, dep.type]) {
          if (!side) continue;
          if (side.error) errors.push(`${from}: ${side.error}`);
          const to = side.specifier ? local(side.specifier) : null;
          if (to === null || !isProduct(to)) continue;
          edges.push({ from, to, line: side.span.start.line + 1, specifier: dep.specifier });
        }
      }
    }
    return { edges, errors };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Arrows that break the floors, one readable line each. */
export function floorViolations(files: readonly string[], edges: readonly Edge[]): string[] {
  const problems = new Set<string>();
  for (const file of files) {
    if (floorOf(roomOf(file)) < 0) {
      problems.add(
        `${file}: room "${
          roomOf(file)
        }" is on no floor; add it to FLOORS in tests/architecture_test.ts`,
      );
    }
  }
  for (const edge of edges) {
    const from = roomOf(edge.from);
    const to = roomOf(edge.to);
    if (from === to) continue;
    const fromFloor = floorOf(from);
    const toFloor = floorOf(to);
    if (fromFloor < 0 || toFloor < 0 || toFloor < fromFloor) continue;
    const below = FLOORS.slice(0, fromFloor).flat().join(", ") || "nothing";
    problems.add(
      `${edge.from}:${edge.line} imports "${edge.specifier}" (${edge.to}): ${from} may import ` +
        `only itself and the floors below it (${below}); ${to} is ${
          toFloor === fromFloor ? "on the same floor" : "above it"
        }`,
    );
  }
  return [...problems];
}

/** Import circles among files (Tarjan's strongly connected components), each as a path. */
export function circles(files: readonly string[], edges: readonly Edge[]): string[] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    const selfLoop = (next.get(v) ?? []).includes(v);
    if (component.length > 1 || selfLoop) {
      const ties = edges.filter((e) => component.includes(e.from) && component.includes(e.to))
        .map((e) => `${e.from}:${e.line} -> ${e.to}`);
      found.push(`import circle: ${ties.join("; ")}`);
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

const files = [...await productFiles(), "main.ts"];
const graph = await importGraph(files);

Deno.test("architecture: every product file under runtime/ resolves its imports", () => {
  assert.deepEqual(graph.errors, []);
  assert.ok(graph.edges.length > 100, `only ${graph.edges.length} imports read`);
});

Deno.test("architecture: imports point down the floors, never sideways or up", () => {
  const problems = floorViolations(files, graph.edges);
  assert.ok(problems.length === 0, `\n${problems.join("\n")}`);
});

Deno.test("architecture: no import circles in runtime/", () => {
  const found = circles(files, graph.edges);
  assert.ok(found.length === 0, `\n${found.join("\n")}`);
});

Deno.test("architecture: the rules catch a transport file importing the call pipeline", () => {
  const edge = {
    from: "runtime/transport/native/connection.ts",
    to: "runtime/server/call_context.ts",
    line: 12,
    specifier: "../../server/call_context.ts",
  };
  const problems = floorViolations(files, [edge]);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^runtime\/transport\/native\/connection\.ts:12 imports/);
  assert.match(problems[0], /server is above it/);
  assert.deepEqual(
    circles(["a.ts", "b.ts"], [
      { from: "a.ts", to: "b.ts", line: 1, specifier: "./b.ts" },
      { from: "b.ts", to: "a.ts", line: 2, specifier: "./a.ts" },
    ]).length,
    1,
  );
});

/**
 * Modules the CLI (runtime/cli/main.ts, which main.ts loads from source or
 * from its bundle) loads at start-up: its graph followed through static
 * imports of code only (type imports are erased; dynamic imports wait
 * until a built-in is switched on).
 */
async function staticallyLoaded(): Promise<Set<string>> {
  const cli = join(ROOT, "runtime/cli/main.ts");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `--config=${join(ROOT, "deno.json")}`, cli],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, `deno info failed: ${new TextDecoder().decode(out.stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: (InfoModule & { dependencies?: { isDynamic?: boolean }[] })[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const queue = [...info.roots];
  while (queue.length > 0) {
    const specifier = queue.pop()!;
    const resolved = info.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    for (const dep of bySpecifier.get(resolved)?.dependencies ?? []) {
      const code = (dep as { code?: { specifier?: string } }).code?.specifier;
      if (code && !(dep as { isDynamic?: boolean }).isDynamic) queue.push(code);
    }
  }
  return seen;
}

Deno.test("architecture: with tracing off, no OpenTelemetry module and nothing of runtime/tracing/ is loaded", async () => {
  const loaded = [...await staticallyLoaded()];
  assert.ok(loaded.some((s) => s.endsWith("/runtime/server/dispatch.ts")), "graph not read");
  const leaks = loaded.filter((s) =>
    s.includes("@opentelemetry") || s.includes("/runtime/tracing/")
  );
  assert.deepEqual(leaks, [], "loaded at start-up, though tracing is off by default");
});
