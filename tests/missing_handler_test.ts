/**
 * A proto service no handler file implements: `svc check` lists it and exits
 * 0, `svc run` warns about it at start and serves the rest, and a broken
 * handler file's hint sketches a service of the project's own protos.
 */
import assert from "node:assert/strict";
import { grpcClient, readAll, ROOT, runSvc, startSvc, unary } from "./_harness.ts";

const DIR = `${ROOT}/tests/fixtures/missing_handler`;
const MISSING_WARNING =
  "shop.Stock (proto/shop.proto) has no handler file, so it is not served and calls to it " +
  "answer UNIMPLEMENTED; add one, e.g. handlers/stock.ts";

Deno.test("svc check lists a proto service without a handler file and exits 0", async () => {
  const result = await runSvc(["check", "svc.yaml"], { cwd: DIR });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^serves {2}shop\.Orders {2}\(handlers\/orders\.ts\)$/m);
  assert.match(result.stdout, /^missing shop\.Stock {2}\(proto\/shop\.proto; no handler file\)$/m);
  assert.ok(result.stdout.includes(`warning: ${MISSING_WARNING}\n`), result.stdout);
  assert.match(
    result.stdout,
    /^ok: 1 service, 1 methods, 1 with handlers; 1 proto service without a handler file$/m,
  );
});

Deno.test("svc check does not call a service this one calls (a dependency) missing", async () => {
  const result = await runSvc(["check", "calls_stock.yaml"], { cwd: DIR });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^calls {3}shop\.Stock /m);
  assert.doesNotMatch(result.stdout, /missing|no handler file/);
  assert.match(result.stdout, /^ok: 1 service, 1 methods, 1 with handlers$/m);
});

Deno.test("svc run warns at start about the service without a handler file and serves the other", async () => {
  await using svc = await startSvc({ config: "svc.yaml", cwd: DIR });
  const logs = svc.logs();
  const warning = logs.findIndex((l) => l.level === "warn" && l.msg === MISSING_WARNING);
  assert.ok(warning >= 0, svc.stderr());
  assert.ok(warning < logs.findIndex((l) => l.msg === "serving"), "warned before serving");
  const serving = logs.find((l) => l.msg === "serving")!;
  assert.ok(!(serving.services as string[]).includes("shop.Stock"), JSON.stringify(serving));

  const factory = grpcClient([`${DIR}/proto/shop.proto`]);
  const orders = factory.makeClient("shop.Orders", svc.port);
  const stock = factory.makeClient("shop.Stock", svc.port);
  try {
    assert.deepEqual(await unary(orders, "placeOrder", { item: "tea", count: 2 }), { id: "2xtea" });
    await assert.rejects(readAll(stock.watch({ name: "tea" })), { code: 12 });
  } finally {
    orders.close();
    stock.close();
  }
});

Deno.test("a broken handler file's hint sketches the project's own service", async () => {
  for (const command of ["check", "run"]) {
    const result = await runSvc([command, "broken.yaml"], { cwd: DIR, timeoutMs: 30_000 });
    assert.equal(result.code, 2, `${command}: ${result.stderr}`);
    assert.match(
      result.stderr,
      /^broken_handlers\/orders\.ts: placeOrdr: "placeOrdr" is not a method of shop\.Orders/m,
    );
    const hint = result.stderr.slice(result.stderr.indexOf("\nhint: "));
    assert.match(hint, /^\nhint: a handler file looks like this:\n/);
    assert.match(hint, /\n {2}export default defineService\("shop\.Orders", \{\n/);
    assert.match(hint, /\n {4}placeOrder\(req, ctx\) \{ \/\/ unary: req is a shop\.Order/);
    assert.match(hint, /\n {6}return \{ \/\* a shop\.Receipt \*\/ \};\n/);
    assert.doesNotMatch(hint, /helloworld/);
  }
});
