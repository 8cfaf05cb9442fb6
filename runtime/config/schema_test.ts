import assert from "node:assert/strict";
import { resolveConfig } from "./resolve.ts";
import { issuesOf, makeProject } from "./_testing.ts";

Deno.test("resolveConfig() fills burst with ceil(rate) for every bucket", async () => {
  await using project = await makeProject();
  const text = [
    "rateLimit:",
    "  global: {rate: 0.5}",
    "  perMethod:",
    "    /pkg.Greeter/SayHello: {rate: 100, burst: 20}",
    "    pkg.Greeter: {rate: 7.2}",
    "  perKey: {key: peer, rate: 3}",
    "  maxConcurrent: {global: 50, perMethod: {pkg.Greeter: 5}}",
  ].join("\n");
  const { rateLimit } = resolveConfig(text, project.file);
  assert.deepEqual(rateLimit, {
    global: { rate: 0.5, burst: 1 },
    perMethod: {
      "/pkg.Greeter/SayHello": { rate: 100, burst: 20 },
      "pkg.Greeter": { rate: 7.2, burst: 8 },
    },
    perKey: { key: "peer", rate: 3, burst: 3, maxKeys: 10000 },
    maxConcurrent: { global: 50, perMethod: { "pkg.Greeter": 5 } },
  });
});

Deno.test("resolveConfig() validates buckets, caller keys and method keys", async () => {
  await using project = await makeProject();
  const text = [
    "rateLimit:",
    "  global: {rate: 0, burst: 1.5}",
    "  perMethod:",
    "    not a method: {rate: 1}",
    "    /pkg.S/M: {burst: 2}",
    "  perKey: {key: ip, rate: 1}",
  ].join("\n");
  const issues = issuesOf(() => resolveConfig(text, project.file));
  assert.deepEqual(issues.map((i) => [i.where, i.line, i.message]), [
    ["rateLimit.global.rate", 2, "expected a number > 0, got 0"],
    ["rateLimit.global.burst", 2, "expected an integer >= 1, got 1.5"],
    [
      `rateLimit.perMethod["not a method"]`,
      4,
      `invalid key "not a method": expected a method "/pkg.Service/Method" or a service "pkg.Service"`,
    ],
    [`rateLimit.perMethod["/pkg.S/M"]`, 5, `missing required key "rate"`],
    ["rateLimit.perKey.key", 6, `expected "peer" or "header:<name>", got "ip"`],
  ]);
});

Deno.test("resolveConfig() checks the registry section", async () => {
  await using project = await makeProject();
  const config = resolveConfig(
    "registry:\n  type: etcd\n  ttl: 30s\n  metadata: {zone: eu-1}\n  auth: {username: u, password: p}\n",
    project.file,
  );
  assert.equal(config.registry.ttl, 30_000);
  assert.deepEqual(config.registry.auth, { username: "u", password: "p" });
  const issues = issuesOf(() =>
    resolveConfig("registry:\n  ttl: 500ms\n  metadata: {zone: 1}\n", project.file)
  );
  assert.deepEqual(issues.map((i) => i.message), [
    `expected at least 1s, got "500ms"`,
    "expected a string, got 1 (quote it to make it a string)",
  ]);
});
