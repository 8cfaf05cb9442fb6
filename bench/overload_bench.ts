/**
 * Per-call cost of the overload limiter when the process is not
 * overloaded: 1e5 admissions and releases through a unary gate (one in
 * eight reads the clock twice), against the loop alone. The difference
 * divided by 1e5 is what the limiter adds to each call; the native
 * transport adds one clock read per socket read on top (not per call).
 *
 *   deno bench -A bench/overload_bench.ts
 * @module
 */
import { OverloadLimiter } from "../runtime/overload/mod.ts";
import type { TransportCall } from "../runtime/transport/types.ts";

const CALLS = 1e5;
const limiter = new OverloadLimiter({ targetDelay: 10, interval: 100 }, { probe: false });
const gate = limiter.admissionFor(() => false)({ service: "demo.Echo", kind: "unary" })!;
// A read time of 0 is "not timed"; the bench ticks the probe itself every 1,000 calls.
const call = { receivedAt: 0 } as unknown as TransportCall;
let sink = 0;

Deno.bench("1e5 calls, no gate", { group: "call", baseline: true }, () => {
  for (let i = 0; i < CALLS; i++) sink += i;
});

Deno.bench("1e5 calls through the overload gate", { group: "call" }, () => {
  for (let i = 0; i < CALLS; i++) {
    if (i % 1000 === 0) limiter.tick(0, performance.now());
    const ticket = gate.admit(call);
    sink += i;
    gate.release(ticket);
  }
});

Deno.bench("1e5 clock reads (performance.now), for scale", { group: "call" }, () => {
  for (let i = 0; i < CALLS; i++) sink += performance.now();
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
