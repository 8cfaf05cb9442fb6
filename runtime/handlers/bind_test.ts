import assert from "node:assert/strict";
import type { Issue } from "../core/errors.ts";
import type { CallKind, MethodDescriptor, ProtoSet } from "../protos/types.ts";
import { bindMethods, checkHandlerModule } from "./bind.ts";
import { defineService } from "./define.ts";

function method(name: string, kind: CallKind): MethodDescriptor {
  return {
    service: "helloworld.Greeter",
    name,
    path: `/helloworld.Greeter/${name}`,
    kind,
    requestType: "helloworld.HelloRequest",
    responseType: "helloworld.HelloReply",
    idempotent: false,
    decodeRequest: () => ({}),
    encodeResponse: () => new Uint8Array(),
    encodeRequest: () => new Uint8Array(),
    decodeResponse: () => ({}),
  };
}

const protos = {
  services: new Map([["helloworld.Greeter", {
    name: "helloworld.Greeter",
    file: "/p/helloworld.proto",
    methods: [method("SayHello", "unary"), method("LotsOfReplies", "server_stream")],
  }]]),
  files: ["/p/helloworld.proto"],
  sources: new Map(),
  root: null as never,
} satisfies ProtoSet;

function check(module: Record<string, unknown>) {
  const issues: Issue[] = [];
  const definition = checkHandlerModule("/h/greeter.ts", module, protos, issues);
  return { definition, messages: issues.map((i) => `${i.where ?? ""}: ${i.message}`) };
}

Deno.test("checkHandlerModule() accepts lowerCamel and exact method names", () => {
  const { definition, messages } = check({
    default: defineService("helloworld.Greeter", {
      sayHello: () => ({}),
      async *LotsOfReplies() {},
    }),
  });
  assert.deepEqual(messages, []);
  assert.ok(definition);
});

Deno.test("checkHandlerModule() rejects a missing default export", () => {
  assert.deepEqual(check({ other: 1 }).messages, [": has no default export"]);
});

Deno.test("checkHandlerModule() rejects a default export that is not a definition", () => {
  const [message] = check({ default: { sayHello() {} } }).messages;
  assert.match(
    message,
    /is not a service definition \(got a plain object\); wrap the methods in defineService/,
  );
});

Deno.test("checkHandlerModule() names an unknown service with a suggestion", () => {
  const [message] = check({ default: defineService("helloworld.Greter", {}) }).messages;
  assert.match(
    message,
    /unknown service "helloworld.Greter" \(did you mean "helloworld.Greeter"\?\)/,
  );
  assert.match(message, /the protos define: helloworld.Greeter/);
});

Deno.test("checkHandlerModule() names an unknown method with a suggestion", () => {
  const [message] = check({ default: defineService("helloworld.Greeter", { sayHelo() {} }) })
    .messages;
  assert.match(
    message,
    /"sayHelo" is not a method of helloworld.Greeter \(did you mean "sayHello"\?\)/,
  );
});

Deno.test("checkHandlerModule() rejects non-functions and generators for unary methods", () => {
  const { messages } = check({
    default: defineService("helloworld.Greeter", { async *sayHello() {}, lotsOfReplies: 3 }),
  });
  assert.equal(messages.length, 2);
  assert.match(messages[0], /must not be a generator/);
  assert.match(messages[1], /must be a function, got number 3/);
});

Deno.test("checkHandlerModule() rejects a method bound twice", () => {
  const { messages } = check({
    default: defineService("helloworld.Greeter", { sayHello() {}, SayHello() {} }),
  });
  assert.match(messages[0], /SayHello is already bound as "sayHello"/);
});

Deno.test("bindMethods() binds every proto method, null where unimplemented", () => {
  const definition = defineService("helloworld.Greeter", { sayHello: () => ({}) });
  const bindings = bindMethods(
    new Map([["helloworld.Greeter", { definition, file: "/h/greeter.ts" }]]),
    protos,
  );
  assert.deepEqual(
    bindings.map((b) => [b.method.name, b.handler !== null, b.file]),
    [["SayHello", true, "/h/greeter.ts"], ["LotsOfReplies", false, null]],
  );
});
