/**
 * The CLI on good and broken projects: exit codes, one line per problem,
 * nothing bound before the problems are reported.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { grpcClient, runSvc, startSvc, unary } from "./_harness.ts";

const PROTO = `syntax = "proto3";
package shop;
service Cart { rpc Add(Item) returns (Item); }
service Stock { rpc Count(Item) returns (Item); }
message Item { string name = 1; int32 count = 2; }
`;
const CART = `import { defineService } from "svc";
export default defineService("shop.Cart", { add(req) { return { name: req.name, count: 1 }; } });
`;
const STOCK = `import { defineService } from "svc";
export default defineService("shop.Stock", { count(req) { return { name: req.name, count: 42 }; } });
`;
const CONFIG = `service: { name: shop }
server: { port: 0 }
admin: { enabled: false }
protos: { files: [proto] }
handlers: handlers
`;

/** A temp project with the given files; removed on dispose. */
async function project(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "svc-cli-" });
  for (
    const [name, text] of Object.entries({
      "svc.yaml": CONFIG,
      "proto/shop.proto": PROTO,
      ...files,
    })
  ) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  await Deno.mkdir(join(dir, "handlers"), { recursive: true });
  return {
    dir,
    config: join(dir, "svc.yaml"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs `svc check` and `svc run` on a broken project; both must exit 2 with `expected` lines. */
async function assertRejected(files: Record<string, string>, expected: RegExp[]) {
  await using p = await project(files);
  for (const command of ["check", "run"]) {
    const result = await runSvc([command, p.config], { cwd: p.dir, timeoutMs: 30_000 });
    assert.equal(result.code, 2, `${command} exit code; stderr:\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /"msg":"serving"/, "nothing was served");
    assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
    for (const pattern of expected) {
      assert.match(result.stderr, pattern, `${command}:\n${result.stderr}`);
    }
  }
}

Deno.test("svc check summarises a good project and exits 0", async () => {
  await using p = await project({ "handlers/cart.ts": CART });
  const result = await runSvc(["check", p.config], { cwd: p.dir });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /serves\s+shop\.Cart\s+\(handlers\/cart\.ts\)/);
  assert.match(result.stdout, /Add\s+unary\s+ok/);
  assert.match(result.stdout, /ok: 1 service, 1 methods, 1 with handlers/);
});

Deno.test("svc check warns that the grpc-js fallback lacks the native transport's protections", async () => {
  await using p = await project({ "handlers/cart.ts": CART });
  const native = await runSvc(["check", p.config], {
    cwd: p.dir,
    env: { SVC_SERVER_TRANSPORT: "native" },
  });
  assert.doesNotMatch(native.stdout, /warning: server\.transport is grpc-js/);
  const fallback = await runSvc(["check", p.config], {
    cwd: p.dir,
    env: { SVC_SERVER_TRANSPORT: "grpc-js" },
  });
  assert.equal(fallback.code, 0, fallback.stderr);
  assert.match(
    fallback.stdout,
    /warning: server\.transport is grpc-js, the fallback: .*docs\/transport\.md#what-the-grpc-js-fallback-does-not-protect-against/,
  );
});

Deno.test("svc check and run reject a broken config: every problem, with line and suggestion", async () => {
  await assertRejected({
    "svc.yaml":
      "server:\n  prot: 1\n  port: abc\nlogging:\n  level: loud\nadmin: { enabled: false }\n",
  }, [
    /^svc\.yaml:2:3: server\.prot: unknown key "prot" \(did you mean "port"\?\)$/m,
    /^svc\.yaml:3:9: server\.port: expected a port number 0-65535, got "abc"$/m,
    /^svc\.yaml:5:10: logging\.level: expected one of "debug", "info", "warn", "error", got "loud"$/m,
  ]);
});

Deno.test("svc check and run reject a proto syntax error with file and line", async () => {
  await assertRejected({
    "proto/shop.proto": PROTO.replace("int32 count = 2;", "int32 count = 2"),
  }, [/^proto\/shop\.proto:5: /m]);
});

Deno.test("svc check and run reject a missing proto import", async () => {
  await assertRejected({
    "proto/shop.proto": PROTO.replace(
      "package shop;",
      'package shop;\nimport "nowhere/types.proto";',
    ),
  }, [/proto\/shop\.proto.*nowhere\/types\.proto/]);
});

Deno.test("svc check and run reject handler files naming unknown services or methods", async () => {
  await assertRejected({
    "handlers/cart.ts": CART.replace("shop.Cart", "shop.Crat"),
    "handlers/stock.ts": STOCK.replace("count(req)", "cuont(req)"),
  }, [
    /^handlers\/cart\.ts: defineService\("shop\.Crat"\): unknown service "shop\.Crat" \(did you mean "shop\.Cart"\?\)/m,
    /^handlers\/stock\.ts: cuont: "cuont" is not a method of shop\.Stock \(did you mean "count"\?\)/m,
    /hint: a handler file looks like this/,
  ]);
});

Deno.test("svc check and run reject a handler file that is not a service definition", async () => {
  await assertRejected({ "handlers/cart.ts": "export default { add() {} };\n" }, [
    /^handlers\/cart\.ts: export default: is not a service definition/m,
  ]);
});

Deno.test("svc check and run reject a handler file with a syntax error, naming its line", async () => {
  await assertRejected({ "handlers/cart.ts": CART.replace("return {", "return {{") }, [
    /^handlers\/cart\.ts:2:\d+: cannot be imported: /m,
  ]);
});

Deno.test("a handler file dropped into handlers/ is served on the next svc run", async () => {
  await using p = await project({ "handlers/cart.ts": CART });
  const factory = grpcClient([join(p.dir, "proto/shop.proto")]);
  {
    await using svc = await startSvc({ config: p.config, cwd: p.dir });
    const client = factory.makeClient("shop.Stock", svc.port);
    try {
      await assert.rejects(unary(client, "count", { name: "x" }), { code: 12 });
    } finally {
      client.close();
    }
  }
  await Deno.writeTextFile(join(p.dir, "handlers/stock.ts"), STOCK);
  await using svc = await startSvc({ config: p.config, cwd: p.dir });
  const client = factory.makeClient("shop.Stock", svc.port);
  try {
    assert.deepEqual(await unary(client, "count", { name: "x" }), { name: "x", count: 42 });
  } finally {
    client.close();
  }
});

Deno.test("svc usage errors exit 2; help and version exit 0", async () => {
  assert.equal((await runSvc(["frobnicate"])).code, 2);
  assert.equal((await runSvc([])).code, 2);
  assert.equal((await runSvc(["run", "a.yaml", "b.yaml"])).code, 2);
  const help = await runSvc(["run", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: svc run \[CONFIG\]/);
  const version = await runSvc(["version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^svc \d+\.\d+\.\d+\ndeno 2\.8\.3\n/);
  assert.match(version.stdout, /grpc-js 1\.\d+\.\d+/);
});

Deno.test("svc run exits 1 with one line when the port is taken", async () => {
  await using p = await project({ "handlers/cart.ts": CART });
  using listener = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const result = await runSvc(["run", p.config], {
    cwd: p.dir,
    env: { SVC_SERVER_PORT: String((listener.addr as Deno.NetAddr).port) },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^svc: .*(in use|EADDRINUSE)/m);
  // No warning with a stack before it: the one line is the whole story.
  assert.doesNotMatch(result.stderr, /accepting a connection failed|\\n\s+at /);
});
