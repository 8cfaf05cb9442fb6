import assert from "node:assert/strict";
import { initNames } from "./init_templates.ts";

Deno.test("initNames() turns a directory name into a registry name, a proto package and a service", () => {
  assert.deepEqual(initNames("hello-world"), {
    service: "hello-world",
    pkg: "hello_world",
    protoService: "HelloWorld",
    handlersType: "HelloWorldHandlers",
  });
  assert.equal(initNames("My App.v2").pkg, "my_app_v2");
  assert.equal(initNames("OrderService").pkg, "order_service");
});

Deno.test("initNames() gives a valid proto identifier for any directory name", () => {
  assert.equal(initNames("2fa").pkg, "svc_2fa");
  assert.equal(initNames("__").pkg, "svc");
  assert.equal(initNames("é").pkg, "svc");
  for (const name of ["2fa", "__", "é", "a b", "-x-", "ÀB9"]) {
    assert.match(initNames(name).pkg, /^[a-z][a-z0-9_]*$/, name);
    assert.match(initNames(name).protoService, /^[A-Z][A-Za-z0-9]*$/, name);
  }
});

Deno.test("initNames() keeps the service clear of the messages and the generated module's names", () => {
  assert.equal(initNames("hello-request").protoService, "HelloRequestService");
  assert.equal(initNames("service").handlersType, "ServiceServiceHandlers");
});
