import assert from "node:assert/strict";
import { envName, listEntries } from "./entries.ts";
import { configSchema } from "./schema.ts";

Deno.test("envName() splits camelCase keys into UPPER_SNAKE words", () => {
  assert.equal(envName(["server", "port"]), "SVC_SERVER_PORT");
  assert.equal(
    envName(["server", "maxReceiveMessageBytes"]),
    "SVC_SERVER_MAX_RECEIVE_MESSAGE_BYTES",
  );
  assert.equal(envName(["rateLimit", "perKey", "maxKeys"]), "SVC_RATE_LIMIT_PER_KEY_MAX_KEYS");
});

Deno.test("listEntries() gives every overridable key a unique env var", () => {
  const names = listEntries(configSchema).flatMap((entry) => entry.env ? [entry.env.name] : []);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes("SVC_REGISTRY_METADATA"));
  assert.ok(names.includes("SVC_SERVER_TLS"));
  assert.ok(!names.some((name) => name.includes("<")));
});

Deno.test("listEntries() has no env var for keys inside a map's values", () => {
  const inner = listEntries(configSchema).filter((entry) => entry.path.includes("<method>"));
  assert.deepEqual(inner.map((entry) => [entry.path.join("."), entry.env]), [
    ["rateLimit.perMethod.<method>.rate", undefined],
    ["rateLimit.perMethod.<method>.burst", undefined],
  ]);
});
