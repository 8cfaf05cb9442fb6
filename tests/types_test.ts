/**
 * The `_types.ts` files the demo and examples use are what `svc types`
 * writes today, and the handlers type-check against them; the typed clients
 * it writes for `dependencies` make `deno check` reject a wrong call.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { loadConfig } from "../runtime/config/mod.ts";
import { ROOT, runSvc } from "./_harness.ts";

const CONFIGS = [
  "config/svc.yaml",
  "examples/routeguide/svc.yaml",
  "examples/interop/svc.yaml",
  "examples/discovery/backend.yaml",
  "examples/discovery/frontend.yaml",
];

for (const file of CONFIGS) {
  Deno.test(`svc types output for ${file} is up to date`, async () => {
    await using tmp = await tempDir();
    const written = join(tmp.path, "_types.ts");
    const run = await runSvc(["types", file, "-o", written]);
    assert.equal(run.code, 0, run.stderr);
    const config = await loadConfig(join(ROOT, file));
    const actual = await Deno.readTextFile(join(config.handlers, "_types.ts"));
    assert.equal(
      actual,
      await Deno.readTextFile(written),
      `stale; run: deno task svc types ${file}`,
    );
  });
}

Deno.test("the typed demo and example handlers pass deno check", async () => {
  const { code, output } = await denoCheck(ROOT, "handlers/", "examples/");
  assert.equal(code, 0, output);
});

// A service that calls one dependency with all four call kinds.
const CONFIG = `service: { name: shop, version: 1.0.0 }
protos: { files: [proto/shop.proto] }
handlers: handlers
dependencies:
  stock.Stock:
    protos: [proto/stock.proto]
    addresses: ["127.0.0.1:1"]
`;

const SHOP_PROTO = `syntax = "proto3";
package shop;
service Cart { rpc Add (Item) returns (Total); }
message Item { string sku = 1; int32 count = 2; }
message Total { int32 items = 1; }
`;

const STOCK_PROTO = `syntax = "proto3";
package stock;
service Stock {
  rpc Reserve (Reservation) returns (Reserved);
  rpc Watch (Reservation) returns (stream Level);
  rpc Restock (stream Reservation) returns (Reserved);
  rpc Sync (stream Reservation) returns (stream Level);
}
message Reservation { string sku = 1; int32 count = 2; }
message Reserved { bool ok = 1; int64 left = 2; }
message Level { string sku = 1; int32 count = 2; }
`;

/** A handler whose `ctx.clients` call is `call`, typed by the generated module. */
function handlerCalling(call: string): string {
  return `import { defineService } from "svc";
import type { CartHandlers } from "./handlers/_types.ts";

export default defineService<CartHandlers>("shop.Cart", {
  async add(req, ctx) {
    const stock = ctx.clients.get("stock.Stock");
    ${call}
    return { items: req.count };
  },
});
`;
}

const GOOD = handlerCalling(
  `const reserved = await stock.reserve({ sku: req.sku, count: 1 }, { timeoutMs: 50 });
    const ok: boolean = reserved.ok;
    const left: string = reserved.left; // int64 arrives as a decimal string
    for await (const level of stock.watch({ sku: req.sku })) ctx.log.info(level.sku);
    const restocked = await stock.restock([{ sku: req.sku, count: 2 }, { count: null }]);
    async function* wanted() {
      yield { sku: req.sku };
    }
    for await (const level of stock.sync(wanted(), { signal: ctx.signal })) {
      const count: number = level.count;
      ctx.log.info(String(count));
    }
    ctx.log.info(String(ok && restocked.ok) + left);`,
);

// Each line 7 (the call), so the error is found where it belongs.
const BAD: Record<string, [call: string, error: RegExp]> = {
  "bad_method.ts": [
    "await stock.reserv({ sku: req.sku });",
    /Property 'reserv' does not exist on type 'StockClient'/,
  ],
  "bad_field.ts": [
    "await stock.reserve({ skew: req.sku });",
    /'skew' does not exist in type 'ReservationInit'/,
  ],
  "bad_type.ts": [
    "await stock.reserve({ sku: req.count });",
    /Type 'number' is not assignable to type 'string'/,
  ],
  "bad_stream.ts": [
    "for await (const level of stock.watch({ sku: req.sku })) level.sku.toFixed();",
    /Property 'toFixed' does not exist on type 'string'/,
  ],
};

Deno.test("svc types types ctx.clients: deno check passes right calls and names wrong ones", async () => {
  await using tmp = await tempDir();
  const files: Record<string, string> = {
    "svc.yaml": CONFIG,
    "proto/shop.proto": SHOP_PROTO,
    "proto/stock.proto": STOCK_PROTO,
    "good.ts": GOOD,
  };
  for (const [name, [call]] of Object.entries(BAD)) files[name] = handlerCalling(call);
  await Deno.mkdir(join(tmp.path, "handlers")); // the config needs it; svc types writes there
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(tmp.path, name)), { recursive: true });
    await Deno.writeTextFile(join(tmp.path, name), text);
  }
  const types = await runSvc(["types", "svc.yaml"], { cwd: tmp.path });
  assert.equal(types.code, 0, types.stderr);
  assert.match(types.stdout, /wrote handlers\/_types\.ts \(1 services, 1 client\)/);

  const good = await denoCheck(tmp.path, "good.ts");
  assert.equal(good.code, 0, good.output);

  const bad = await denoCheck(tmp.path, ...Object.keys(BAD));
  assert.notEqual(bad.code, 0);
  const errors = bad.output.split(/\n(?=TS\d+ \[ERROR\])/).filter((e) => e.startsWith("TS"));
  assert.equal(errors.length, Object.keys(BAD).length, bad.output);
  for (const [name, [, error]] of Object.entries(BAD)) {
    const found = errors.find((e) => error.test(e));
    assert.ok(found, `${name}: no error matching ${error} in:\n${bad.output}`);
    assert.match(found, new RegExp(`at file://\\S+/${name.replace(".", "\\.")}:7:`));
  }
});

/** `deno check` with the repository's config (so `"svc"` is this runtime), colourless. */
async function denoCheck(
  cwd: string,
  ...files: string[]
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--config", join(ROOT, "deno.json"), ...files],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "svc_types_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}
