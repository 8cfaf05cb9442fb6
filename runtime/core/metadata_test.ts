import assert from "node:assert/strict";
import { Metadata } from "./metadata.ts";

Deno.test("Metadata is case-insensitive and keeps repeated values", () => {
  const md = Metadata.from({ "X-Trace": "a", "x-list": ["1", "2"] });
  md.add("X-LIST", "3");
  assert.equal(md.get("x-trace"), "a");
  assert.deepEqual(md.getAll("x-list"), ["1", "2", "3"]);
  assert.deepEqual(md.toJSON(), { "x-trace": "a", "x-list": ["1", "2", "3"] });
  md.set("x-list", "only");
  md.delete("x-trace");
  assert.deepEqual(md.toJSON(), { "x-list": "only" });
  assert.equal(md.has("x-trace"), false);
});
