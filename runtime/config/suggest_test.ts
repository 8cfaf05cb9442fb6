import { assertEquals } from "node:assert/strict";
import { editDistance, suggest } from "./suggest.ts";

Deno.test("editDistance() counts edits", () => {
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(editDistance("kitten", "sitting"), 3);
  assertEquals(editDistance("same", "same"), 0);
});

Deno.test("suggest() prefers a case-insensitive match", () => {
  assertEquals(
    suggest("MaxReceiveMessageBytes", ["maxSendMessageBytes", "maxReceiveMessageBytes"]),
    "maxReceiveMessageBytes",
  );
});

Deno.test("suggest() finds the nearest candidate within 3 edits", () => {
  assertEquals(suggest("prot", ["server", "protos", "handlers"]), "protos");
  assertEquals(suggest("hots", ["host", "port"]), "host");
});

Deno.test("suggest() returns undefined when nothing is close", () => {
  assertEquals(suggest("completely", ["host", "port"]), undefined);
  assertEquals(suggest("ab", ["tls"]), undefined);
});
