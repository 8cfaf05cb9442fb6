import assert from "node:assert/strict";
import { EDGE_PROTO, GREETER_PROTO, KITCHEN_PROTO, protoDir } from "./_testing.ts";
import { generateTypes } from "./generate_types.ts";
import { loadProtos } from "./load_protos.ts";
import type { ProtoSet } from "./types.ts";

async function typesFor(files: Record<string, string>): Promise<string> {
  await using tmp = await protoDir(files);
  return generateTypes(await loadProtos({ files: [tmp.dir], includePaths: [] }));
}

/** The module for `served`, calling each dependency (its protos in their own directory). */
async function typesCalling(
  served: Record<string, string>,
  dependencies: Record<string, Record<string, string>>,
): Promise<string> {
  const loaded = new Map<string, ProtoSet>();
  for (const [service, files] of Object.entries(dependencies)) {
    await using tmp = await protoDir(files);
    loaded.set(service, await loadProtos({ files: [tmp.dir], includePaths: [] }));
  }
  await using tmp = await protoDir(served);
  return generateTypes(await loadProtos({ files: [tmp.dir], includePaths: [] }), loaded);
}

const GRPC_PROTO = "/usr/share/grpc-proto";

// Stands in for runtime/mod.ts ("svc"): what generated code imports and handler files use.
// The clients part mirrors runtime/core/clients.ts.
const SVC_STUB = `export interface ClientCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}
export interface CallClients<C extends object> {
  get<K extends keyof C & string>(service: K): C[K];
  get<T extends object>(service: string): T;
}
export interface CallContext<C extends object = Record<string, never>> {
  readonly signal: AbortSignal;
  readonly log: { info(msg: string): void };
  readonly clients: CallClients<C>;
}
export function defineService<T extends object>(service: string, methods: T): { service: string } {
  return { service, ...methods };
}
`;

const GOOD_HANDLERS = `import { defineService } from "svc";
import type { GreeterHandlers } from "./greeter_types.ts";
import type { KitchenHandlers } from "./kitchen_types.ts";
import type { TestServiceHandlers } from "./testing_types.ts";
import type { UsesHandlers } from "./edge_types.ts";
import type { KitchenHandlers as CallingKitchenHandlers } from "./calls_types.ts";

export const greeter = defineService<GreeterHandlers>("helloworld.Greeter", {
  sayHello(req, ctx) {
    ctx.log.info(req.sentAt?.seconds ?? "no time");
    return { message: \`Hello \${req.name}\` };
  },
  async *lotsOfReplies(req) {
    yield { message: req.name };
  },
  async lotsOfGreetings(reqs) {
    const names: string[] = [];
    for await (const r of reqs) names.push(r.name);
    return { message: names.join(", ") };
  },
  async *bidiHello(reqs) {
    for await (const r of reqs) yield { message: r.name };
  },
  ping: () => ({}),
});

export const kitchen = defineService<KitchenHandlers>("kitchen.v1.Kitchen", {
  cook(req) {
    const mood: "CALM" | "ANGRY" | undefined = req.inner?.mood;
    if (req.choice === "spot") return { spot: req.spot, i64: 5n, data: "AAE=", color: 2 };
    return mood ? req : { ...req, u64: 1, colors: ["RED"], createdAt: { seconds: "1" } };
  },
  async *route(features) {
    for await (const f of features) yield { name: f.name, location: f.location };
  },
});

export const edge = defineService<UsesHandlers>("edge.Uses", {
  m: (req) => ({ b: req.b, g: req.g, m: { k: "A" }, ".edge.ext": "x" }),
});

// kitchen.v1.Kitchen again, from a module where it calls helloworld.Greeter.
export const calling = defineService<CallingKitchenHandlers>("kitchen.v1.Kitchen", {
  async cook(req, ctx) {
    const greeter = ctx.clients.get("helloworld.Greeter");
    const reply = await greeter.sayHello({ name: req.text, sentAt: { seconds: 1n } }, { timeoutMs: 5 });
    for await (const r of greeter.lotsOfReplies({ name: reply.message })) ctx.log.info(r.message);
    const joined: string = (await greeter.lotsOfGreetings([{ name: "a" }, { name: null }])).message;
    const names = (async function* () { yield { name: joined }; })();
    for await (const r of greeter.bidiHello(names, { signal: ctx.signal })) ctx.log.info(r.message);
    const empty: Record<string, never> = await greeter.ping({});
    return { ...empty, text: reply.message };
  },
  async *route(features) {
    for await (const f of features) yield f;
  },
});

export const testing: Partial<TestServiceHandlers> = {
  emptyCall: () => ({}),
  unaryCall: (req) => ({ payload: { body: req.payload?.body ?? new Uint8Array(), type: "COMPRESSABLE" } }),
  streamingOutputCall: (req) => req.responseParameters.map((p) => ({ payload: { body: String(p.size) } })),
};
`;

const BAD_HANDLER = `import { defineService } from "svc";
import type { GreeterHandlers } from "./greeter_types.ts";

export default defineService<GreeterHandlers>("helloworld.Greeter", {
  sayHello(req) {
    return { message: req.name.length };
  },
  async *lotsOfReplies() {},
  async lotsOfGreetings() {
    return {};
  },
  async *bidiHello() {},
  ping: () => ({}),
});
`;

async function run(cwd: string, ...args: string[]): Promise<{ ok: boolean; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { ok: success, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

Deno.test("generateTypes() renders messages, init shapes and handler interfaces", async () => {
  const out = await typesFor({ "hello.proto": GREETER_PROTO });
  assert.ok(out.startsWith("// Generated by `svc types` — do not edit.\n"));
  for (
    const line of [
      'import type { CallContext } from "svc";',
      "export interface HelloRequest {\n  name: string;\n  sentAt: Timestamp | null;\n}",
      "export interface HelloReplyInit {\n  message?: string | null;\n}",
      "export type Empty = Record<string, never>;",
      "  seconds?: number | string | bigint | null;",
      "  sayHello: (req: HelloRequest, ctx: CallContext<DependencyClients>) => HelloReplyInit | Promise<HelloReplyInit>;",
      "  lotsOfReplies: (req: HelloRequest, ctx: CallContext<DependencyClients>) => AsyncIterable<HelloReplyInit> | Iterable<HelloReplyInit>;",
      "  lotsOfGreetings: (reqs: AsyncIterable<HelloRequest>, ctx: CallContext<DependencyClients>) => HelloReplyInit | Promise<HelloReplyInit>;",
      "  bidiHello: (reqs: AsyncIterable<HelloRequest>, ctx: CallContext<DependencyClients>) => AsyncIterable<HelloReplyInit>;",
      "/**\n * The request message containing the user's name.\n *\n * `helloworld.HelloRequest` as handlers receive it.\n */",
      "  /**\n   * Sends a greeting.\n   *\n   * `SayHello` (unary).\n   */",
      'export type ServiceName = "helloworld.Greeter";',
      'export interface ServiceHandlers {\n  "helloworld.Greeter": GreeterHandlers;\n}',
      "export type DependencyClients = Record<never, never>;",
    ]
  ) assert.ok(out.includes(line), `missing:\n${line}\n--- in ---\n${out}`);
});

Deno.test("generateTypes() types nested messages, enums, maps and oneofs as decoded", async () => {
  const out = await typesFor({ "kitchen.proto": KITCHEN_PROTO });
  for (
    const line of [
      'export type Color = "COLOR_UNSPECIFIED" | "RED" | "GREEN";',
      "export type ColorInit = Color | number;",
      "  i64: string;",
      "  data: Uint8Array;",
      "  points: Record<string, Point>;",
      "  label?: string;",
      "  nickname?: string;",
      "  inner: Sink_Inner | null;",
      '  choice?: "label" | "number" | "spot";',
      "  bigList?: readonly (number | string | bigint)[] | null;",
      "  data?: Uint8Array | string | null;",
      'export type Sink_Inner_Mood = "CALM" | "ANGRY";',
      "  nullValue?: NullValue;",
    ]
  ) assert.ok(out.includes(line), `missing:\n${line}`);
  assert.ok(!out.includes("interface Duration"), "only well-known types in use are emitted");
});

Deno.test("generateTypes() prefixes names that clash across packages or with its own", async () => {
  const out = await typesFor({
    "a.proto": `syntax = "proto3";\npackage alpha.v1;\nmessage Thing {}\nmessage Promise {}\n`,
    "b.proto": `syntax = "proto3";
package beta;
import "a.proto";
message Thing { alpha.v1.Thing other = 1; alpha.v1.Promise p = 2; }
message Outer { message Inner {} }
message Outer_Inner {}
service Svc { rpc Get (Thing) returns (alpha.v1.Thing); }
`,
  });
  for (
    const name of [
      "AlphaV1Thing",
      "BetaThing",
      "AlphaV1Promise",
      "BetaOuter_Inner",
      "BetaOuter_Inner_2",
      "SvcHandlers",
    ]
  ) assert.match(out, new RegExp(`export (type|interface) ${name}\\b`));
  assert.ok(
    out.includes(
      "get: (req: BetaThing, ctx: CallContext<DependencyClients>) => AlphaV1ThingInit | Promise<AlphaV1ThingInit>;",
    ),
  );
});

Deno.test("generateTypes() output depends only on the protos", async () => {
  const first = await typesFor({ "kitchen.proto": KITCHEN_PROTO, "hello.proto": GREETER_PROTO });
  const second = await typesFor({ "kitchen.proto": KITCHEN_PROTO, "hello.proto": GREETER_PROTO });
  assert.equal(first, second);
});

Deno.test("generateTypes() output passes deno check, lint and fmt and types handler files", async () => {
  const testing = await loadProtos({
    files: [`${GRPC_PROTO}/grpc/testing/test.proto`],
    includePaths: [GRPC_PROTO],
  });
  await using tmp = await protoDir({
    "deno.json": JSON.stringify({
      imports: { svc: "./svc.ts" },
      compilerOptions: { strict: true, noImplicitReturns: true, noImplicitOverride: true },
    }),
    "svc.ts": SVC_STUB,
    "greeter_types.ts": await typesFor({ "hello.proto": GREETER_PROTO }),
    "kitchen_types.ts": await typesFor({ "kitchen.proto": KITCHEN_PROTO }),
    "testing_types.ts": generateTypes(testing),
    "edge_types.ts": await typesFor({ "edge.proto": EDGE_PROTO }),
    "calls_types.ts": await typesCalling({ "kitchen.proto": KITCHEN_PROTO }, {
      "helloworld.Greeter": { "hello.proto": GREETER_PROTO },
    }),
    "handlers.ts": GOOD_HANDLERS,
    "bad_handler.ts": BAD_HANDLER,
  });
  const generated = [
    "greeter_types.ts",
    "kitchen_types.ts",
    "testing_types.ts",
    "edge_types.ts",
    "calls_types.ts",
  ];
  const check = await run(tmp.dir, "check", ...generated, "handlers.ts");
  assert.ok(check.ok, check.output);
  const lint = await run(tmp.dir, "lint", ...generated);
  assert.ok(lint.ok, lint.output);
  const fmt = await run(tmp.dir, "fmt", "--check", ...generated);
  assert.ok(fmt.ok, fmt.output);

  const bad = await run(tmp.dir, "check", "bad_handler.ts");
  assert.equal(bad.ok, false);
  assert.match(bad.output, /Type 'number' is not assignable to type 'string'/);
  assert.match(bad.output, /bad_handler\.ts:5:/);
});

Deno.test("generateTypes() handles proto2 required fields, extensions and empty services", async () => {
  const out = await typesFor({ "edge.proto": EDGE_PROTO });
  for (
    const line of [
      "export interface EdgePromise {\n  a: number;\n  b: string;\n  g: Promise_G | null;",
      "export interface EdgePromiseInit {\n  a?: number | null;\n  b: string;",
      '  ".edge.ext"?: string | null;',
      "export type NothingHandlers = Record<string, never>;",
      "  m: (req: EdgePromise, ctx: CallContext<DependencyClients>) => EdgePromiseInit | Promise<EdgePromiseInit>;",
      '//   export default defineService<UsesHandlers>("edge.Uses", { ... });',
    ]
  ) assert.ok(out.includes(line), `missing:\n${line}\n--- in ---\n${out}`);
});
