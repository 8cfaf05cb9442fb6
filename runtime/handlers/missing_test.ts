import assert from "node:assert/strict";
import type { ProtoSet, ServiceDescriptor } from "../protos/types.ts";
import { handlerFileName, missingServices } from "./missing.ts";

function service(name: string, file = "/p/x.proto"): ServiceDescriptor {
  return { name, file, methods: [] };
}

function protoSet(...services: ServiceDescriptor[]): ProtoSet {
  return {
    services: new Map(services.map((s) => [s.name, s])),
    files: [...new Set(services.map((s) => s.file))],
    sources: new Map(),
    root: null as never,
  };
}

Deno.test("handlerFileName() is the snake_case short name, or the whole name when qualified", () => {
  assert.equal(handlerFileName("helloworld.Greeter"), "greeter.ts");
  assert.equal(handlerFileName("routeguide.RouteGuide"), "route_guide.ts");
  assert.equal(handlerFileName("grpc.testing.TestService"), "test_service.ts");
  assert.equal(handlerFileName("api.HTTPProxy"), "http_proxy.ts");
  assert.equal(handlerFileName("Orders"), "orders.ts");
  assert.equal(
    handlerFileName("shop.v1.CartService", { qualified: true }),
    "shop_v1_cart_service.ts",
  );
});

Deno.test("missingServices() lists unserved services in proto order, skipping those served elsewhere", () => {
  const protos = protoSet(
    service("shop.Stock", "/p/stock.proto"),
    service("shop.Cart", "/p/cart.proto"),
    service("pay.Payments", "/p/pay.proto"),
    service("shop.Orders", "/p/cart.proto"),
  );
  const missing = missingServices(
    protos,
    new Map([["shop.Cart", "/h/cart.ts"]]),
    new Set(["pay.Payments"]),
  );
  assert.deepEqual(
    missing.map((m) => [m.service.name, m.service.file, m.fileName]),
    [["shop.Stock", "/p/stock.proto", "stock.ts"], ["shop.Orders", "/p/cart.proto", "orders.ts"]],
  );
});

Deno.test("missingServices() suggests a file name no other handler file has", () => {
  const protos = protoSet(service("a.Cart"), service("b.Cart"), service("c.Cart"));
  const missing = missingServices(protos, new Map([["a.Cart", "/h/cart.ts"]]), new Set());
  assert.deepEqual(missing.map((m) => m.fileName), ["b_cart.ts", "c_cart.ts"]);
  const none = missingServices(protos, new Map(), new Set());
  assert.deepEqual(none.map((m) => m.fileName), ["cart.ts", "b_cart.ts", "c_cart.ts"]);
});

Deno.test("missingServices() is empty when every service is served or served elsewhere", () => {
  const protos = protoSet(service("shop.Cart"), service("grpc.health.v1.Health"));
  assert.deepEqual(
    missingServices(
      protos,
      new Map([["shop.Cart", "/h/cart.ts"]]),
      new Set(["grpc.health.v1.Health"]),
    ),
    [],
  );
});
