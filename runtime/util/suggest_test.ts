import assert from "node:assert/strict";
import { didYouMean, editDistance, suggest } from "./suggest.ts";

Deno.test("editDistance() counts edits", () => {
  assert.deepEqual(editDistance("", "abc"), 3);
  assert.deepEqual(editDistance("kitten", "sitting"), 3);
  assert.deepEqual(editDistance("same", "same"), 0);
});

Deno.test("suggest() prefers a case-insensitive match", () => {
  assert.deepEqual(
    suggest("MaxReceiveMessageBytes", ["maxSendMessageBytes", "maxReceiveMessageBytes"]),
    "maxReceiveMessageBytes",
  );
});

Deno.test("suggest() finds the nearest candidate within 3 edits", () => {
  assert.deepEqual(suggest("prot", ["server", "protos", "handlers"]), "protos");
  assert.deepEqual(suggest("hots", ["host", "port"]), "host");
});

Deno.test("suggest() returns undefined when nothing is close", () => {
  assert.deepEqual(suggest("completely", ["host", "port"]), undefined);
  assert.deepEqual(suggest("ab", ["tls"]), undefined);
});

Deno.test("suggest() finds close typos and ignores distant words", () => {
  assert.equal(suggest("prot", ["protos", "server"]), "protos");
  assert.equal(suggest("SERVER", ["protos", "server"]), "server");
  assert.equal(suggest("zzzzzz", ["protos", "server"]), undefined);
  assert.equal(didYouMean("sayHelo", ["sayHello"]), ' (did you mean "sayHello"?)');
  assert.equal(didYouMean("x", []), "");
  assert.equal(editDistance("kitten", "sitting"), 3);
});
