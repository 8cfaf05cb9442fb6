import assert from "node:assert/strict";
import type { ClientInterceptor } from "../core/clients.ts";
import type { Issue } from "../core/errors.ts";
import type { Interceptor } from "../core/interceptor.ts";
import { defineClientMiddleware, loadClientMiddleware } from "./client_middleware.ts";
import type { HandlerSource } from "./discover.ts";
import { defineMiddleware, loadMiddleware } from "./middleware.ts";

const forward: ClientInterceptor = (next) =>
  async function forward(call) {
    await next(call);
  };
const serverSide: Interceptor = (next) =>
  async function serverSide(call) {
    await next(call);
  };

function source(file: string, exported: unknown): HandlerSource {
  return { file, load: () => Promise.resolve({ default: exported }) };
}

Deno.test("defineClientMiddleware() keeps the interceptors in order, frozen", () => {
  const other: ClientInterceptor = (next) => next;
  const definition = defineClientMiddleware(forward, other);
  assert.deepEqual(definition.interceptors, [forward, other]);
  assert.ok(Object.isFrozen(definition));
});

Deno.test("loadClientMiddleware() accepts a definition, a bare interceptor and an array, in order", async () => {
  const issues: Issue[] = [];
  const other: ClientInterceptor = (next) => next;
  const loaded = await loadClientMiddleware([
    source("/a/_client_middleware.ts", defineClientMiddleware(forward)),
    source("/a/bare.ts", other),
    source("/a/list.ts", [forward, other]),
  ], issues);
  assert.deepEqual(issues, []);
  assert.deepEqual(loaded, [forward, other, forward, other]);
});

Deno.test("loadClientMiddleware() names a file that exports server middleware", async () => {
  const issues: Issue[] = [];
  const loaded = await loadClientMiddleware(
    [source("/a/_client_middleware.ts", defineMiddleware(serverSide))],
    issues,
  );
  assert.deepEqual(loaded, []);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].file, "/a/_client_middleware.ts");
  assert.equal(issues[0].where, "export default");
  assert.match(issues[0].message, /^is server middleware \(defineMiddleware\)/);
  assert.match(issues[0].message, /export defineClientMiddleware\(\.\.\.\) here/);
});

Deno.test("loadMiddleware() names a file that exports client middleware", async () => {
  const issues: Issue[] = [];
  await loadMiddleware([source("/a/_middleware.ts", defineClientMiddleware(forward))], issues);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].file, "/a/_middleware.ts");
  assert.match(issues[0].message, /^is client middleware \(defineClientMiddleware\)/);
  assert.match(issues[0].message, /move it to _client_middleware\.ts/);
});

Deno.test("loadClientMiddleware() reports a missing default export, a non-function and a failed import", async () => {
  const issues: Issue[] = [];
  await loadClientMiddleware([
    source("/a/none.ts", undefined),
    source("/a/number.ts", [forward, 42]),
    { file: "/a/broken.ts", load: () => Promise.reject(new Error("boom")) },
  ], issues);
  assert.deepEqual(issues.map((i) => [i.file, i.message]), [
    ["/a/none.ts", "has no default export; export defineClientMiddleware(...) by default"],
    [
      "/a/number.ts",
      "is not client middleware (item 1 is number); export defineClientMiddleware(interceptor, ...)",
    ],
    ["/a/broken.ts", "cannot be imported: boom"],
  ]);
});
