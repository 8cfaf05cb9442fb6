import assert from "node:assert/strict";
import { didYouMean, editDistance, suggest } from "./suggest.ts";

Deno.test("suggest() finds close typos and ignores distant words", () => {
  assert.equal(suggest("prot", ["protos", "server"]), "protos");
  assert.equal(suggest("SERVER", ["protos", "server"]), "server");
  assert.equal(suggest("zzzzzz", ["protos", "server"]), undefined);
  assert.equal(didYouMean("sayHelo", ["sayHello"]), ' (did you mean "sayHello"?)');
  assert.equal(didYouMean("x", []), "");
  assert.equal(editDistance("kitten", "sitting"), 3);
});
