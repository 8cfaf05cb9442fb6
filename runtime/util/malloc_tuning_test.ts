import assert from "node:assert/strict";
import { fixMmapThreshold } from "./malloc_tuning.ts";

Deno.test({
  name: "fixMmapThreshold sets glibc's threshold through FFI, or defers to MALLOC_MMAP_THRESHOLD_",
  ignore: Deno.build.os !== "linux",
  fn() {
    const before = Deno.env.get("MALLOC_MMAP_THRESHOLD_");
    try {
      Deno.env.delete("MALLOC_MMAP_THRESHOLD_");
      // deno test -A grants FFI; on glibc mallopt() answers 1.
      assert.equal(fixMmapThreshold(), "mallopt");
      Deno.env.set("MALLOC_MMAP_THRESHOLD_", "131072");
      assert.equal(fixMmapThreshold(), "env");
    } finally {
      if (before === undefined) Deno.env.delete("MALLOC_MMAP_THRESHOLD_");
      else Deno.env.set("MALLOC_MMAP_THRESHOLD_", before);
    }
  },
});
