import assert from "node:assert/strict";
import { UserInputError } from "../core/errors.ts";
import { protoDir, rejection } from "../protos/_testing.ts";
import { loadProtos } from "../protos/mod.ts";
import type { ProtoSet } from "../protos/types.ts";
import { defineService } from "./define.ts";
import type { HandlerSource } from "./discover.ts";
import { loadHandlers } from "./load.ts";

// Services in this order: one the user calls (a dependency), two to serve.
const SHOP_PROTO = `syntax = "proto3";
package shop;
service Payments { rpc Pay(Item) returns (Item); }
service Cart { rpc Add(Item) returns (Item); }
service Stock { rpc Watch(Item) returns (stream Item); }
message Item { string name = 1; }
`;

async function shopProtos(): Promise<ProtoSet> {
  await using dir = await protoDir({ "shop.proto": SHOP_PROTO });
  return await loadProtos({ files: [dir.path("shop.proto")], includePaths: [] });
}

function source(file: string, module: Record<string, unknown>): HandlerSource {
  return { file, load: () => Promise.resolve(module) };
}

const CART = source("/h/cart.ts", { default: defineService("shop.Cart", { add: () => ({}) }) });
const PAYMENTS = new Set(["shop.Payments"]);

Deno.test("loadHandlers() reports the services no handler file serves, except those served elsewhere", async () => {
  const protos = await shopProtos();
  const handlers = await loadHandlers([CART], protos, { servedElsewhere: PAYMENTS });
  assert.deepEqual([...handlers.services.keys()], ["shop.Cart"]);
  assert.deepEqual(
    handlers.missing.map((m) => [m.service.name, m.fileName]),
    [["shop.Stock", "stock.ts"]],
  );
  const all = await loadHandlers([CART], protos);
  assert.deepEqual(all.missing.map((m) => m.service.name), ["shop.Payments", "shop.Stock"]);
});

Deno.test("loadHandlers() hints with the first service lacking a working handler file", async () => {
  const protos = await shopProtos();
  const broken = source("/h/cart.ts", { default: defineService("shop.Cart", { ad() {} }) });
  const error = await rejection(() =>
    loadHandlers([broken], protos, { servedElsewhere: PAYMENTS })
  );
  assert.ok(error instanceof UserInputError);
  assert.match(error.message, /"ad" is not a method of shop\.Cart/);
  // The broken file's service is the one not served, so it is the one sketched.
  assert.match(error.hint ?? "", /defineService\("shop\.Cart", \{\n {4}add\(req, ctx\)/);
});

Deno.test("loadHandlers() hints with the first service when every one has a handler file", async () => {
  const protos = await shopProtos();
  const stock = source("/h/stock.ts", {
    default: defineService("shop.Stock", { async *watch() {} }),
  });
  const stray = source("/h/stray.ts", { default: defineService("shop.Nope", {}) });
  const error = await rejection(() =>
    loadHandlers([CART, stock, stray], protos, { servedElsewhere: PAYMENTS })
  );
  assert.ok(error instanceof UserInputError);
  assert.match(error.hint ?? "", /defineService\("shop\.Cart"/);
});

Deno.test("loadHandlers() gives the generic hint when the protos declare no service to serve", async () => {
  const protos = await shopProtos();
  const stray = source("/h/stray.ts", { default: { add() {} } });
  const error = await rejection(() =>
    loadHandlers([stray], protos, {
      servedElsewhere: new Set(["shop.Payments", "shop.Cart", "shop.Stock"]),
    })
  );
  assert.ok(error instanceof UserInputError);
  assert.match(error.hint ?? "", /defineService\("helloworld\.Greeter"/);
});

Deno.test("loadHandlers() gives no hint when files only fail to import", async () => {
  const protos = await shopProtos();
  const failing: HandlerSource = {
    file: "/h/cart.ts",
    load: () => Promise.reject(new SyntaxError("Unexpected token")),
  };
  const error = await rejection(() => loadHandlers([failing], protos));
  assert.ok(error instanceof UserInputError);
  assert.equal(error.hint, undefined);
});
