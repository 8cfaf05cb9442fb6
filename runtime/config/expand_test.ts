import assert from "node:assert/strict";
import { expandVariables } from "./expand.ts";

Deno.test("expandVariables() substitutes set variables and fallbacks", () => {
  const result = expandVariables("${HOST:-localhost}:${PORT}", { PORT: "80" });
  assert.deepEqual(result, { value: "localhost:80", expanded: true, problems: [] });
});

Deno.test("expandVariables() uses the fallback for an empty variable", () => {
  assert.deepEqual(expandVariables("${A:-x}", { A: "" }).value, "x");
  assert.deepEqual(expandVariables("${A}", { A: "" }).value, "");
});

Deno.test("expandVariables() treats $${ as a literal ${", () => {
  assert.deepEqual(expandVariables("$${HOME} costs $$5", { HOME: "/h" }), {
    value: "${HOME} costs $$5",
    expanded: false,
    problems: [],
  });
});

Deno.test("expandVariables() reports an unset variable by name", () => {
  const result = expandVariables("${NOPE}", {});
  assert.deepEqual(result.problems, [
    `environment variable "NOPE" is not set (write \${NOPE:-default} to give a default)`,
  ]);
});

Deno.test("expandVariables() reports malformed references", () => {
  assert.deepEqual(expandVariables("${1X}", {}).problems, [
    `cannot expand "\${1X}": expected \${NAME} or \${NAME:-default}`,
  ]);
  assert.deepEqual(expandVariables("a ${B", {}).problems, [
    `cannot expand "a \${B": "\${" has no closing "}"`,
  ]);
});

Deno.test("expandVariables() leaves text without references alone", () => {
  assert.deepEqual(expandVariables("plain $ text", {}), {
    value: "plain $ text",
    expanded: false,
    problems: [],
  });
});
