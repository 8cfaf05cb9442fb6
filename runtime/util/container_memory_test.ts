import assert from "node:assert/strict";
import { chooseMemoryBudget, containerMemoryLimit, heapLimit } from "./container_memory.ts";

const MiB = 2 ** 20;

function fixture(files: Record<string, string>): string {
  const dir = Deno.makeTempDirSync({ prefix: "svc-cgroup-" });
  for (const [path, text] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(full, text);
  }
  return dir;
}

Deno.test("containerMemoryLimit reads cgroup v2 memory.max for the process's own cgroup", () => {
  const dir = fixture({
    "self": "0::/kubepods/pod1/c1\n",
    "fs/kubepods/pod1/c1/memory.max": "268435456\n",
  });
  assert.equal(containerMemoryLimit(`${dir}/fs`, `${dir}/self`), 256 * MiB);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("containerMemoryLimit: v2 at the namespace root, and 'max' means no limit", () => {
  const root = fixture({ "self": "0::/\n", "fs/memory.max": "max\n" });
  assert.equal(containerMemoryLimit(`${root}/fs`, `${root}/self`), null);
  const ns = fixture({ "self": "0::/host/path\n", "fs/memory.max": "134217728\n" });
  assert.equal(containerMemoryLimit(`${ns}/fs`, `${ns}/self`), 128 * MiB);
  Deno.removeSync(root, { recursive: true });
  Deno.removeSync(ns, { recursive: true });
});

Deno.test("containerMemoryLimit reads cgroup v1, where 2^63 rounded to a page means no limit", () => {
  const limited = fixture({
    "self": "4:memory:/docker/abc\n0::/\n",
    "fs/memory/docker/abc/memory.limit_in_bytes": "536870912\n",
  });
  assert.equal(containerMemoryLimit(`${limited}/fs`, `${limited}/self`), 512 * MiB);
  const unlimited = fixture({
    "self": "4:memory:/\n",
    "fs/memory/memory.limit_in_bytes": "9223372036854771712\n",
  });
  assert.equal(containerMemoryLimit(`${unlimited}/fs`, `${unlimited}/self`), null);
  assert.equal(containerMemoryLimit(`${unlimited}/fs`, `${unlimited}/missing`), null);
  Deno.removeSync(limited, { recursive: true });
  Deno.removeSync(unlimited, { recursive: true });
});

Deno.test("chooseMemoryBudget takes half the smallest limit (container, memoryLimitBytes, heap), or the configured value, and warns when V8 may outgrow the container", () => {
  const heap = 4096 * MiB;
  assert.deepEqual(chooseMemoryBudget(0, null, heap), {
    bytes: 2048 * MiB,
    source: "heap",
    containerLimit: null,
    memoryLimit: null,
    heapLimit: heap,
    warning: null,
  });
  const pod = chooseMemoryBudget(0, 256 * MiB, heap);
  assert.equal(pod.bytes, 128 * MiB);
  assert.equal(pod.source, "container");
  assert.match(pod.warning!, /DENO_V8_FLAGS=--max-old-space-size=192$/);
  const matched = chooseMemoryBudget(0, 1024 * MiB, 608 * MiB);
  assert.equal(matched.bytes, 304 * MiB);
  assert.equal(matched.source, "heap");
  assert.equal(matched.warning, null);
  assert.equal(chooseMemoryBudget(100 * MiB, 256 * MiB, 192 * MiB).bytes, 100 * MiB);
  // server.memoryLimitBytes, when it is the smallest limit, is what the budget is half of.
  const limited = chooseMemoryBudget(0, 1024 * MiB, heap, 128 * MiB);
  assert.equal(limited.bytes, 64 * MiB);
  assert.equal(limited.source, "memoryLimit");
  assert.equal(chooseMemoryBudget(0, 256 * MiB, heap, 512 * MiB).source, "container");
  assert.equal(chooseMemoryBudget(0, null, 192 * MiB, 512 * MiB).source, "heap");
  assert.equal(chooseMemoryBudget(32 * MiB, null, heap, 128 * MiB).bytes, 32 * MiB);
  assert.ok(heapLimit() > 64 * MiB);
});
