import assert from "node:assert/strict";
import { HEALTH_PROTO } from "../health/health_proto.ts";
import { REFLECTION_PROTOS } from "../reflection/reflection_protos.ts";
import { describeEmbeddedNow, lazyEmbeddedProtos, scanServices } from "./lazy_embedded.ts";
import { loadProtos } from "./load_protos.ts";
import type { ProtoSet } from "./types.ts";

const EMBEDDED = [HEALTH_PROTO, ...REFLECTION_PROTOS];

/** What binding and the transports read of each method before its first call. */
function shapes(protos: ProtoSet) {
  return [...protos.services.values()].map((s) => ({
    name: s.name,
    file: s.file,
    methods: s.methods.map((m) => ({
      service: m.service,
      name: m.name,
      path: m.path,
      kind: m.kind,
      requestType: m.requestType,
      responseType: m.responseType,
      idempotent: m.idempotent,
      noSideEffects: m.noSideEffects ?? false,
    })),
  }));
}

Deno.test("lazyEmbeddedProtos() describes the built-ins as loadProtos() does, before parsing", async () => {
  const loaded = await loadProtos({ files: [], includePaths: [], embedded: EMBEDDED });
  const lazy = lazyEmbeddedProtos(EMBEDDED);
  assert.deepEqual(shapes(lazy), shapes(loaded));
  assert.deepEqual(lazy.files, loaded.files);
  assert.deepEqual(shapes(describeEmbeddedNow(EMBEDDED)), shapes(loaded));
  // The scan finds every service the parse finds, in the same order.
  assert.deepEqual(
    EMBEDDED.flatMap((f) => scanServices(f).map((s) => s.name)),
    [...loaded.services.keys()],
  );
});

Deno.test("lazyEmbeddedProtos() codecs parse at first use and match loadProtos()'s", async () => {
  const loaded = await loadProtos({ files: [], includePaths: [], embedded: EMBEDDED });
  const lazy = lazyEmbeddedProtos(EMBEDDED);
  const check = lazy.services.get("grpc.health.v1.Health")!.methods[0];
  const real = loaded.services.get("grpc.health.v1.Health")!.methods[0];
  const bytes = check.encodeRequest({ service: "demo" });
  assert.deepEqual(bytes, real.encodeRequest({ service: "demo" }));
  assert.deepEqual(check.decodeRequest(bytes), real.decodeRequest(bytes));
  assert.deepEqual(
    check.decodeResponse(check.encodeResponse({ status: "SERVING" })),
    real.decodeResponse(real.encodeResponse({ status: "SERVING" })),
  );
  assert.throws(() => check.encodeResponse({ nope: 1 }), /unknown field/);
  const json = await check.jsonCodec!();
  assert.equal(
    json.responseToJson(check.encodeResponse({ status: "SERVING" })),
    '{"status":"SERVING"}',
  );
  // Reflection reads root and sources: the same files and types.
  assert.deepEqual([...lazy.sources.keys()], [...loaded.sources.keys()]);
  assert.deepEqual(
    [...lazy.sources.values()].map((f) => [f.path, f.package, f.syntax, f.imports]),
    [...loaded.sources.values()].map((f) => [f.path, f.package, f.syntax, f.imports]),
  );
  assert.ok(lazy.root.lookupService("grpc.reflection.v1.ServerReflection"));
  assert.equal(
    lazy.root.lookupType("grpc.reflection.v1alpha.ServerReflectionRequest").filename,
    "grpc/reflection/v1alpha/reflection.proto",
  );
});

Deno.test("scanServices() reads stream flags, qualifies types and skips comments", () => {
  const source = `syntax = "proto3";
package a.b;
// service Commented { rpc X(Y) returns (Z); }
service S {
  /* rpc Hidden(Y) returns (Z); */
  rpc One(Req) returns (stream .other.Res);
  rpc Two(stream c.Req) returns (Res);
}`;
  assert.deepEqual(scanServices({ name: "s.proto", source }), [{
    name: "a.b.S",
    methods: [
      {
        name: "One",
        requestStream: false,
        requestType: "a.b.Req",
        responseStream: true,
        responseType: "other.Res",
      },
      {
        name: "Two",
        requestStream: true,
        requestType: "c.Req",
        responseStream: false,
        responseType: "a.b.Res",
      },
    ],
  }]);
});
