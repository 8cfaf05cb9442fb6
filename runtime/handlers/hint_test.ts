import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Issue } from "../core/errors.ts";
import type { CallKind, MethodDescriptor, ProtoSet, ServiceDescriptor } from "../protos/types.ts";
import { checkHandlerModule } from "./bind.ts";
import { HANDLER_FILE_HINT, handlerFileHint } from "./hint.ts";

function method(name: string, kind: CallKind): MethodDescriptor {
  return {
    service: "route.Guide",
    name,
    path: `/route.Guide/${name}`,
    kind,
    requestType: "route.Point",
    responseType: "route.Feature",
    idempotent: false,
    decodeRequest: () => ({}),
    encodeResponse: () => new Uint8Array(),
    encodeRequest: () => new Uint8Array(),
    decodeResponse: () => ({}),
  };
}

function guide(...methods: MethodDescriptor[]): ServiceDescriptor {
  return { name: "route.Guide", file: "/p/route.proto", methods };
}

/** The sketch as a file: the hint without its first line and its two-space indent. */
function fileOf(hint: string): string {
  return hint.split("\n").slice(2).map((line) => line.slice(2)).join("\n") + "\n";
}

Deno.test("handlerFileHint() falls back to the generic sketch without a service", () => {
  assert.equal(handlerFileHint(undefined), HANDLER_FILE_HINT);
  assert.match(HANDLER_FILE_HINT, /defineService\("helloworld\.Greeter"/);
});

Deno.test("handlerFileHint() names the real service and sketches a unary method returning an object", () => {
  const hint = handlerFileHint(
    guide(method("GetFeature", "unary"), method("RouteChat", "bidi_stream")),
  );
  assert.match(
    hint,
    /^a handler file looks like this:\n\n {2}import \{ defineService \} from "svc";/,
  );
  assert.match(hint, /export default defineService\("route\.Guide", \{/);
  assert.match(hint, /\n {4}getFeature\(req, ctx\) \{ \/\/ unary: req is a route\.Point/);
  assert.match(hint, /\n {6}return \{ \/\* a route\.Feature \*\/ \};/);
  assert.match(hint, /\/\/ and the other methods: routeChat\n/);
  assert.doesNotMatch(hint, /helloworld/);
});

Deno.test("handlerFileHint() sketches each streaming kind in its own shape", () => {
  const server = handlerFileHint(guide(method("ListFeatures", "server_stream")));
  assert.match(server, /async \*listFeatures\(req, ctx\)/);
  assert.match(server, /yield \{ \/\* a route\.Feature \*\/ \};/);
  const client = handlerFileHint(guide(method("RecordRoute", "client_stream")));
  assert.match(client, /async recordRoute\(reqs, ctx\)/);
  assert.match(client, /for await \(const req of reqs\)/);
  assert.match(client, /return \{ \/\* a route\.Feature \*\/ \};/);
  const bidi = handlerFileHint(guide(method("RouteChat", "bidi_stream")));
  assert.match(bidi, /async \*routeChat\(reqs, ctx\)/);
  assert.match(bidi, /for await \(const req of reqs\) yield \{ \/\* a route\.Feature \*\/ \};/);
});

Deno.test("handlerFileHint() of a service without methods is still a valid file", () => {
  assert.match(handlerFileHint(guide()), /defineService\("route\.Guide", \{\n {2}\}\);$/);
});

Deno.test("handlerFileHint() sketches, copied into a file, pass the handler checks for every kind", async () => {
  const kinds: CallKind[] = ["unary", "server_stream", "client_stream", "bidi_stream"];
  const dir = await Deno.makeTempDir({ prefix: "svc_hint_" });
  try {
    for (const kind of kinds) {
      const service = guide(method("Go", kind));
      const protos: ProtoSet = {
        services: new Map([[service.name, service]]),
        files: [service.file],
        sources: new Map(),
        root: null as never,
      };
      const file = join(dir, `${kind}.ts`);
      await Deno.writeTextFile(file, fileOf(handlerFileHint(service)));
      const module = await import(pathToFileURL(file).href);
      const issues: Issue[] = [];
      assert.ok(checkHandlerModule(file, module, protos, issues), kind);
      assert.deepEqual(issues, [], kind);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
