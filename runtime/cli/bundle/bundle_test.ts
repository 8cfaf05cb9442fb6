import assert from "node:assert/strict";
import { join } from "node:path";
import { grpcClient, startSvc, unary } from "../../../tests/_harness.ts";
import { MANIFEST_MODE } from "../../../tests/_manifest_mode.ts";
import { escapeNonAscii, hideDynamicImports } from "./build.ts";
import { freshManifest, MANIFEST_FILE } from "./manifest.ts";

Deno.test("hideDynamicImports computes chunk, npm and node specifiers, nothing else", () => {
  const code = [
    'const a = await import("./discovery-AB12.mjs");',
    'const b = import("npm:etcd3@1.1.2");',
    'const c = import("node:tls");',
    'const d = import("./handler.ts");',
    'const e = "import(\\"x\\")";',
  ].join("\n");
  const out = hideDynamicImports(code).split("\n");
  assert.equal(
    out[0],
    'const a = await import(new URL("./discovery-AB12.mjs", import.meta.url).href);',
  );
  assert.equal(out[1], 'const b = import(new URL("npm:etcd3@1.1.2", import.meta.url).href);');
  assert.equal(out[2], 'const c = import(new URL("node:tls", import.meta.url).href);');
  assert.equal(out[3], 'const d = import("./handler.ts");');
  assert.equal(out[4], 'const e = "import(\\"x\\")";');
});

Deno.test("escapeNonAscii leaves ASCII text, and code that means the same", () => {
  const code = '// a ≤ b → c\nconst s = "≤"; const r = /→/u; const t = `§`; const e = "😀";';
  const out = escapeNonAscii(code);
  assert.ok(!/[\u0080-\uffff]/.test(out), out);
  assert.equal(out.split("\n")[0], "// a \\u2264 b \\u2192 c");
  const values = new Function(`${out.split("\n")[1]} return [s, r.source, t, e];`)();
  assert.deepEqual(values, ["≤", "\\u2192", "§", "😀"]);
  assert.ok(new RegExp(values[1], "u").test("→"));
});

Deno.test({
  name: "svc run builds a bundle once, reuses it, and shares svc's RpcError with handlers",
  // In manifest mode the harness starts svc from a generated build entry, which (like a built
  // binary) imports the CLI from source and never uses the bundle.
  ignore: MANIFEST_MODE,
  fn: async () => {
    const cache = await Deno.makeTempDir({ prefix: "svc_bundle_test_" });
    const env = { SVC_BUNDLE_DIR: cache, SVC_STARTUP_TIMINGS: "1" };
    const client = grpcClient(["proto/helloworld.proto"]);
    try {
      const builds = async () => {
        const [dir] = [...Deno.readDirSync(cache)].map((e) => join(cache, e.name));
        const manifest = JSON.parse(await Deno.readTextFile(join(dir, MANIFEST_FILE)));
        assert.ok(freshManifest(dir, manifest.root), "the manifest is fresh");
        return [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name);
      };
      for (const round of [1, 2]) {
        await using svc = await startSvc({ config: "config/svc.yaml", env });
        // The CLI came from the bundle.
        assert.match(svc.stderr(), /svc-startup bundled /);
        const greeter = client.makeClient("helloworld.Greeter", svc.port);
        try {
          const reply = await unary(greeter, "sayHello", { name: "Ada" });
          assert.equal(reply.message, "Hello, Ada!");
          // The handler throws svc's RpcError; the bundled server must recognise it.
          await assert.rejects(
            unary(greeter, "sayHello", { name: "x".repeat(201) }),
            (error: { code?: number }) => error.code === 3,
          );
        } finally {
          greeter.close();
        }
        assert.equal((await builds()).length, 1, `round ${round}: one build, reused`);
      }
      const [dir] = [...Deno.readDirSync(cache)].map((e) => join(cache, e.name));
      const [build] = await builds();
      const startPath = staticClosure(join(dir, build), "main.mjs");
      // What start-up does not need stays out of the chunks every start loads.
      for (
        const lazy of [
          "node_modules/.deno/yaml@", // config's fast path parses the demo config
          "// runtime/protos/json_codec.ts", // on a method's first JSON call
          "// runtime/reflection/descriptors.ts", // on the first reflection stream
          "/protobufjs/google/protobuf/descriptor.json", // for protos importing it
        ]
      ) {
        assert.ok(!startPath.includes(lazy), `${lazy} is on the start path`);
      }
      assert.ok(startPath.includes("// runtime/cli/main.ts"), "the walk found the CLI");
    } finally {
      await Deno.remove(cache, { recursive: true });
    }
  },
});

/** The text of `entry` and every chunk it imports statically, transitively. */
function staticClosure(dir: string, entry: string): string {
  const seen = new Set<string>();
  const texts: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = Deno.readTextFileSync(join(dir, file));
    texts.push(text);
    for (const m of text.matchAll(/^(?:import|\} from)\b[^\n]*?"\.\/([\w.-]+\.mjs)"/gm)) {
      visit(m[1]);
    }
  };
  visit(entry);
  return texts.join("\n");
}
