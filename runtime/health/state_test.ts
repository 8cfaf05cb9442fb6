import assert from "node:assert/strict";
import { HealthState } from "./state.ts";

Deno.test("HealthState starts NOT_SERVING and knows only registered services", () => {
  const state = new HealthState(["a.B"]);
  assert.equal(state.get(""), "NOT_SERVING");
  assert.equal(state.get("a.B"), "NOT_SERVING");
  assert.equal(state.get("x.Y"), undefined);
  state.setAll("SERVING");
  assert.deepEqual([...state.services()].map((s) => state.get(s)), ["SERVING", "SERVING"]);
});

Deno.test("HealthState.watch() yields the current status, then each change, until aborted", async () => {
  const state = new HealthState(["a.B"]);
  const abort = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const status of state.watch("a.B", abort.signal)) {
      seen.push(status);
      if (status === "SERVING") state.set("a.B", "NOT_SERVING");
      if (seen.length === 3) abort.abort();
    }
  })();
  await new Promise((r) => setTimeout(r, 0));
  state.set("a.B", "SERVING");
  await done;
  assert.deepEqual(seen, ["NOT_SERVING", "SERVING", "NOT_SERVING"]);
});

Deno.test("HealthState.watch() reports SERVICE_UNKNOWN and ends on close()", async () => {
  const state = new HealthState([]);
  const seen: string[] = [];
  const done = (async () => {
    for await (const status of state.watch("nope", new AbortController().signal)) seen.push(status);
  })();
  await new Promise((r) => setTimeout(r, 0));
  state.close();
  await done;
  assert.deepEqual(seen, ["SERVICE_UNKNOWN"]);
  assert.ok(state.closing.aborted);
});
