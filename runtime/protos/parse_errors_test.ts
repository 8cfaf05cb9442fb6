import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { findLine, parseErrorIssue } from "./parse_errors.ts";

const TEXT = `syntax = "proto3";
// message Fake {}
/* message Fake {}
*/
message Note { string text = 1; } // "message Fake"
message Fake {}
`;

Deno.test("findLine() skips matches inside comments", () => {
  assert.equal(findLine(TEXT, /\bmessage\s+Fake\b/g), 6);
  assert.equal(findLine(TEXT, /\bmessage\s+Fake\b/g, 2), undefined);
  assert.equal(findLine(TEXT, /\btext\s*=/g), 5);
});

Deno.test("parseErrorIssue() turns a protobufjs syntax error into a line and message", () => {
  const file = { path: "/p/a.proto", name: "a.proto", text: TEXT };
  const issue = parseErrorIssue(
    new Error("illegal token 'x' (a.proto, line 7)"),
    file,
    new protobuf.Root(),
    (n) => n,
  );
  assert.deepEqual(issue, {
    file: "/p/a.proto",
    line: 7,
    message: "syntax error: illegal token 'x'",
  });
});

Deno.test("parseErrorIssue() keeps unrecognised errors readable", () => {
  const file = { path: "/p/a.proto", name: "a.proto", text: TEXT };
  const issue = parseErrorIssue(
    new Error("id 5 is reserved in Type .p.M"),
    file,
    new protobuf.Root(),
    (n) => n,
  );
  assert.deepEqual(issue, { file: "/p/a.proto", message: "id 5 is reserved in message p.M" });
});
