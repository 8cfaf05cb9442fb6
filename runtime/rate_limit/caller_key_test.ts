import assert from "node:assert/strict";
import { fakeCall } from "./_testing.ts";
import { createCallerKey, MAX_KEY_CHARS, peerHost } from "./caller_key.ts";

Deno.test("peerHost() drops the port of IPv4 and bracketed IPv6 peers", () => {
  assert.equal(peerHost("10.0.0.7:51234"), "10.0.0.7");
  assert.equal(peerHost("[::1]:51234"), "::1");
  assert.equal(peerHost("[2001:db8::5]:443"), "2001:db8::5");
  assert.equal(peerHost("localhost:80"), "localhost");
});

Deno.test("peerHost() unwraps IPv4-mapped IPv6 and leaves other shapes alone", () => {
  assert.equal(peerHost("[::ffff:10.0.0.7]:1"), "10.0.0.7");
  assert.equal(peerHost("::ffff:10.0.0.7"), "10.0.0.7");
  assert.equal(peerHost("::1"), "::1");
  assert.equal(peerHost("/run/svc.sock"), "/run/svc.sock");
  assert.equal(peerHost("unknown"), "unknown");
});

Deno.test("createCallerKey() keys peer calls by IP address", () => {
  const keyOf = createCallerKey("peer");
  assert.equal(keyOf(fakeCall("/p.S/M", { peer: "10.0.0.7:1" })), "10.0.0.7");
  assert.equal(keyOf(fakeCall("/p.S/M", { peer: "[::1]:2" })), "::1");
  assert.equal(keyOf(fakeCall("/p.S/M", { peer: "" })), null);
});

Deno.test("createCallerKey() keys header calls by value, null when absent or empty", () => {
  const keyOf = createCallerKey("header:X-Api-Key");
  assert.equal(keyOf(fakeCall("/p.S/M", { metadata: { "x-api-key": "k1" } })), "k1");
  assert.equal(keyOf(fakeCall("/p.S/M")), null);
  assert.equal(keyOf(fakeCall("/p.S/M", { metadata: { "x-api-key": "" } })), null);
});

Deno.test("createCallerKey() keys a -bin header by its base64", () => {
  const keyOf = createCallerKey("header:token-bin");
  const call = fakeCall("/p.S/M", { metadata: { "token-bin": new Uint8Array([0, 255, 1]) } });
  assert.equal(keyOf(call), "AP8B");
});

Deno.test("createCallerKey() rejects an unknown key setting", () => {
  assert.throws(() => createCallerKey("ip"), /Cannot use rate limit key "ip"/);
  assert.throws(() => createCallerKey("header:"), /expected "peer" or "header:<name>"/);
});

Deno.test("createCallerKey() keeps a long header key as a 50-char digest, distinct per value", () => {
  const keyOf = createCallerKey("header:x-api-key");
  const long = (c: string) => fakeCall("/p.S/M", { metadata: { "x-api-key": c.repeat(12_000) } });
  const a = keyOf(long("a"))!;
  const b = keyOf(long("b"))!;
  assert.match(a, /^sha256:[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.equal(keyOf(long("a")), a);
  const edge = "k".repeat(MAX_KEY_CHARS);
  assert.equal(keyOf(fakeCall("/p.S/M", { metadata: { "x-api-key": edge } })), edge);
});
