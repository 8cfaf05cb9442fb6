import assert from "node:assert/strict";
import { GREETER_PROTO, protoDir } from "./_testing.ts";
import { generateTypes } from "./generate_types.ts";
import { loadProtos } from "./load_protos.ts";
import type { ProtoSet } from "./types.ts";

/** Served by the module under test; it calls helloworld.Greeter. */
const FRONT_PROTO = `syntax = "proto3";
package front;
import "google/protobuf/timestamp.proto";
service Front { rpc Go (GoRequest) returns (GoReply); }
message GoRequest { string name = 1; google.protobuf.Timestamp at = 2; }
message GoReply { string text = 1; }
`;

async function load(files: Record<string, string>): Promise<ProtoSet> {
  await using tmp = await protoDir(files);
  return await loadProtos({ files: Object.keys(files).map((f) => tmp.path(f)), includePaths: [] });
}

/** The module for `served`, with each dependency's service loaded from its own files. */
async function typesWith(
  served: Record<string, string>,
  dependencies: Record<string, Record<string, string>>,
): Promise<string> {
  const loaded = new Map<string, ProtoSet>();
  for (const [service, files] of Object.entries(dependencies)) {
    loaded.set(service, await load(files));
  }
  return generateTypes(await load(served), loaded);
}

function assertIncludes(out: string, lines: readonly string[]): void {
  for (const line of lines) assert.ok(out.includes(line), `missing:\n${line}\n--- in ---\n${out}`);
}

Deno.test("generateTypes() writes a client interface per dependency, all four call kinds", async () => {
  const out = await typesWith({ "front.proto": FRONT_PROTO }, {
    "helloworld.Greeter": { "hello.proto": GREETER_PROTO },
  });
  assertIncludes(out, [
    "// Dependency: helloworld.Greeter (hello.proto)",
    'import type { CallContext, ClientCallOptions } from "svc";',
    '/**\n * The greeting service.\n *\n * Client for `helloworld.Greeter`, a dependency: `ctx.clients.get("helloworld.Greeter")`.\n */',
    "export interface GreeterClient {",
    "  sayHello: (request: HelloRequestInit, options?: ClientCallOptions) => Promise<HelloReply>;",
    "  lotsOfReplies: (request: HelloRequestInit, options?: ClientCallOptions) => AsyncIterable<HelloReply>;",
    "  lotsOfGreetings: (requests: AsyncIterable<HelloRequestInit> | Iterable<HelloRequestInit>, options?: ClientCallOptions) => Promise<HelloReply>;",
    "  bidiHello: (requests: AsyncIterable<HelloRequestInit> | Iterable<HelloRequestInit>, options?: ClientCallOptions) => AsyncIterable<HelloReply>;",
    "  ping: (request: EmptyInit, options?: ClientCallOptions) => Promise<Empty>;",
    "  /**\n   * Sends a greeting.\n   *\n   * `SayHello` (unary).\n   */",
    "  go: (req: GoRequest, ctx: CallContext<DependencyClients>) => GoReplyInit | Promise<GoReplyInit>;",
    'export type ServiceName = "front.Front";',
    'export interface DependencyClients {\n  "helloworld.Greeter": GreeterClient;\n}',
    "export interface HelloRequest {\n  name: string;\n  sentAt: Timestamp | null;\n}",
  ]);
  // A dependency is called, not served; Timestamp comes from both roots but is one type.
  assert.ok(!out.includes("GreeterHandlers"), "no handlers interface for a dependency");
  assert.equal(out.match(/export interface Timestamp \{/g)?.length, 1);
  // The served protos' declarations come first.
  assert.ok(out.indexOf("interface GoRequest ") < out.indexOf("interface HelloRequest "));
});

Deno.test("generateTypes() names clients apart from services and messages of other packages", async () => {
  const shared = `syntax = "proto3";\npackage shared;\nmessage Tag { string v = 1; }\n`;
  const out = await typesWith({
    "a.proto": `syntax = "proto3";
package alpha;
import "shared.proto";
service Store { rpc Put (Thing) returns (shared.Tag); }
message Thing { string id = 1; }
message DependencyClients { string x = 1; }
`,
    "shared.proto": shared,
  }, {
    "beta.Store": {
      "b.proto": `syntax = "proto3";
package beta;
import "shared.proto";
service Store { rpc Put (Thing) returns (shared.Tag); rpc Get (Thing) returns (Thing); rpc get (Thing) returns (Thing); }
message Thing { int32 n = 1; }
message StoreClient { string owner = 1; }
`,
      "shared.proto": shared,
    },
    "gamma.Cache": {
      "c.proto": `syntax = "proto3";\npackage gamma;\nservice Cache {}\n`,
    },
  });
  assertIncludes(out, [
    "export interface AlphaStoreHandlers {",
    "  put: (req: AlphaThing, ctx: CallContext<DependencyClients>) => TagInit | Promise<TagInit>;",
    "export interface BetaStoreClient {",
    "  put: (request: BetaThingInit, options?: ClientCallOptions) => Promise<Tag>;",
    // Both would be `get` on the runtime client; each keeps its proto name.
    "  Get: (request: BetaThingInit, options?: ClientCallOptions) => Promise<BetaThing>;",
    "  get: (request: BetaThingInit, options?: ClientCallOptions) => Promise<BetaThing>;",
    "export interface StoreClient {\n  owner: string;\n}",
    "export type CacheClient = Record<string, never>;",
    // A message may not take the name of the module's own map.
    "export interface DependencyClients_ {\n  x: string;\n}",
    "export interface DependencyClients_Init {",
    'export interface DependencyClients {\n  "beta.Store": BetaStoreClient;\n  "gamma.Cache": CacheClient;\n}',
  ]);
  assert.equal(out.match(/export interface Tag \{/g)?.length, 1, "a shared file is declared once");
  const declared = [...out.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(declared.filter((name, i) => declared.indexOf(name) !== i), [], "unique names");
});

Deno.test("generateTypes() without dependencies maps no clients and imports no client options", async () => {
  const out = await typesWith({ "front.proto": FRONT_PROTO }, {});
  assertIncludes(out, [
    'import type { CallContext } from "svc";',
    "export type DependencyClients = Record<never, never>;",
  ]);
  assert.ok(!out.includes("ClientCallOptions") && !out.includes("// Dependency:"));
});

Deno.test("generateTypes() refuses a dependency its protos do not declare", async () => {
  const served = await load({ "front.proto": FRONT_PROTO });
  const other = await load({ "hello.proto": GREETER_PROTO });
  assert.throws(
    () => generateTypes(served, new Map([["helloworld.Greeterr", other]])),
    /Cannot type dependency "helloworld.Greeterr": its protos do not declare it/,
  );
});
