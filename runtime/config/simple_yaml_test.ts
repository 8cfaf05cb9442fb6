import assert from "node:assert/strict";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { fromSimple, fromYaml, type RawNode } from "./raw.ts";
import { parseSimpleYaml } from "./simple_yaml.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ENV = { PORT: "7", NAME: "n" };

/** The raw tree through the yaml package, as resolve.ts builds it; problems as text. */
function viaYaml(text: string): { node: RawNode | null; problems: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  assert.equal(doc.errors.length, 0, `yaml rejects: ${doc.errors.map((e) => e.message)}`);
  const problems: string[] = [];
  if (doc.contents === null || doc.contents === undefined) return { node: null, problems };
  const node = fromYaml(doc.contents, [], {
    doc,
    lineCounter,
    env: ENV,
    onProblem: (path, origin, message) => problems.push(`${path}@${origin.line}: ${message}`),
  });
  return { node, problems };
}

function viaSimple(text: string): { node: RawNode | null; problems: string[] } | null {
  const parsed = parseSimpleYaml(text);
  if (parsed === null) return null;
  const problems: string[] = [];
  const node = fromSimple(parsed, [], {
    env: ENV,
    onProblem: (path, origin, message) => problems.push(`${path}@${origin.line}: ${message}`),
  });
  return { node, problems };
}

async function yamlFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (["node_modules", "dist", ".git", ".ci"].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await yamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) found.push(path);
  }
  return found;
}

Deno.test("simple_yaml reads every svc config in the repository as the yaml package does", async () => {
  let taken = 0;
  for (const file of await yamlFiles(ROOT)) {
    const text = await Deno.readTextFile(file);
    if (!/^(service|server|protos|handlers):/m.test(text)) continue; // not an svc config
    const simple = viaSimple(text);
    if (simple === null) continue;
    taken++;
    assert.deepEqual(simple, viaYaml(text), file);
  }
  // The demo and the examples are all within the subset.
  assert.ok(taken >= 10, `only ${taken} configs took the fast path`);
  assert.ok(viaSimple(await Deno.readTextFile(join(ROOT, "config/svc.yaml"))));
});

const SAME = [
  "a: 1\nb: -2\nc: +3\nd: 1.5\ne: .5\nf: 1e3\ng: 012\nh: 1.0.0\ni: 5s\n",
  "a: true\nb: False\nc: TRUE\nd: null\ne: ~\nf:\ng: Null\nh: yes\ni: no\n",
  "a: 'it''s'\nb: \"x # not a comment\"\nc: x#y\nd: x # comment\ne: 'a: b'\n",
  "a: [x, 'y', \"z\", 1, true]\nb: []\nc: [ ../proto ]\n",
  "list:\n  - a\n  - b: 1\n    c: 2\n  -\n    d: 3\n",
  "list:\n- a\n- b\nnext: 1\n",
  "deep:\n  deeper:\n    deepest: ${PORT}\n  other: ${MISSING}\n  x: ${NAME:-d}\n",
  "k: http://host:80/path\nv: a-b\nw: -x\nu: ${A:-}\n",
  "a:   # empty, with a comment\nb:\n  c:\nd: 1\n",
  "top:\n  - x\n  -   y\n  - [a, b]\n",
  "a: \"\"\nb: ''\nc: x   \nd.e/f: 1\nl:\n  - a # c\n  - b:\n    c: ${PORT}\n",
  "m:\n  - name: a\n    list: [1, 2]\n    sub:\n      k: v\n  - name: b\n",
  "a: [ x , y ]   # c\nb: [a1, '${NAME}']\nc: 'q' # c\n",
  "service: { name: bench }\nserver: { host: 127.0.0.1, port: 50051 }\nprotos: { files: [../p] }\n",
  "a: {}\nb: { x: { y: [1, 'two'] }, z: \"q\" }\nc: {k: '${PORT}', u: http://h:80/x}\n",
  "l:\n  - { name: a, port: 1 }\n  - {name: b}   # c\n  - [x, [y, {z: 1}]]\n",
  "a: [b, [c]]\nd: {b: 1}\n",
];

Deno.test("simple_yaml matches the yaml package on scalars, flows, lists and positions", () => {
  for (const text of SAME) {
    const simple = viaSimple(text);
    assert.ok(simple, `not taken: ${JSON.stringify(text)}`);
    assert.deepEqual(simple, viaYaml(text), JSON.stringify(text));
  }
});

const LEFT_TO_YAML = [
  "",
  "# only a comment\n",
  "a: &x 1\nb: *x\n",
  "a: !!str 1\n",
  "a: |\n  text\n",
  "a: >\n  text\n",
  "a: {b:1}\n",
  "a: { b: 1, }\n",
  "a: { b: 1, b: 2 }\n",
  "a: { 'b': 1 }\n",
  "a: { b: 1,\n  c: 2 }\n",
  "a: { b }\n",
  "a: { b: }\n",
  "a: { b: c: d }\n",
  "a: { b: 1 } x\n",
  "a: { k: ${PORT} }\n",
  'a: "esc\\n"\n',
  "a: 1\na: 2\n",
  "a:\tb\n",
  "---\na: 1\n",
  "a: multi\n  line\n",
  "a: [b,]\n",
  "a: 0x1F\n",
  "a: .inf\n",
  "'quoted key': 1\n",
  "a: b: c\n",
  "? a\n: b\n",
  "- - a\n",
  "a: 1\r\nb: 2\r\n",
  "a:\n    b: 1\n  c: 2\n",
];

Deno.test("simple_yaml leaves everything outside its subset to the yaml package", () => {
  for (const text of LEFT_TO_YAML) {
    assert.equal(parseSimpleYaml(text), null, JSON.stringify(text));
  }
});
