import assert from "node:assert/strict";
import { importIssue } from "./import_error.ts";

Deno.test("importIssue() keeps the first line and the location in the file itself", () => {
  const error = new SyntaxError(
    "Expected ',', got 'x'\n  |\n2 | bad code\n  |   ~\n    at file:///h/greeter.ts:2:51",
  );
  assert.deepEqual(importIssue("/h/greeter.ts", error), {
    file: "/h/greeter.ts",
    line: 2,
    column: 51,
    message: "cannot be imported: Expected ',', got 'x'",
  });
});

Deno.test("importIssue() names another file the error came from", () => {
  const error = new TypeError(
    'Module not found "file:///h/missing.ts".\n    at \u001b[0m\u001b[36mfile:///h/greeter.ts\u001b[0m:\u001b[0m\u001b[33m1\u001b[0m:\u001b[0m\u001b[33m22\u001b[0m',
  );
  assert.equal(importIssue("/h/greeter.ts", error).line, 1);
  const other = importIssue("/h/other.ts", error);
  assert.equal(
    other.message,
    'cannot be imported: Module not found "file:///h/missing.ts". (at /h/greeter.ts:1:22)',
  );
});
