import assert from "node:assert/strict";
import { RpcError, Status } from "../core/errors.ts";
import type { TransportCall } from "../transport/types.ts";
import type { CallAdmission } from "../server/admission.ts";
import { COOL_DOWN_MS, OverloadLimiter, SAMPLE_EVERY } from "./limiter.ts";
import { LoopDelayProbe, PROBE_MS } from "./loop_delay.ts";
import { BUCKET_MS, PassWindow } from "./pass_window.ts";

const SETTINGS = { targetDelay: 10, interval: 100 };

/** A limiter on a clock the test moves, with no probe timer: the test ticks it. */
function limiter() {
  let now = 1_000;
  const overload = new OverloadLimiter(SETTINGS, { clock: () => now, probe: false });
  const gates = overload.admissionFor((service) => service === "grpc.health.v1.Health");
  return {
    overload,
    unary: gates({ service: "pkg.Work", kind: "unary" })!,
    stream: gates({ service: "pkg.Work", kind: "bidi_stream" })!,
    health: gates({ service: "grpc.health.v1.Health", kind: "unary" }),
    get now() {
      return now;
    },
    advance(ms: number) {
      now += ms;
    },
    /** Probe ticks for at least `ms`, each `delay` late (so PROBE_MS + delay apart). */
    ticks(ms: number, delay: number) {
      for (let t = 0; t < ms; t += PROBE_MS + delay) {
        now += PROBE_MS + delay;
        overload.tick(delay, now);
      }
    },
  };
}

const call = (receivedAt: number) => ({ receivedAt }) as unknown as TransportCall;

function shed(gate: CallAdmission, at: TransportCall): RpcError {
  let error: unknown = null;
  try {
    gate.admit(at);
  } catch (thrown) {
    error = thrown;
  }
  assert.ok(error instanceof RpcError, "the call was shed");
  return error;
}

Deno.test("overload: an idle process admits every call and counts unary calls in flight", () => {
  const t = limiter();
  t.ticks(200, 0);
  const tickets = Array.from({ length: 20 }, () => t.unary.admit(call(t.now)));
  t.stream.admit(call(t.now));
  assert.equal(t.overload.inFlight, 20, "the stream is not counted");
  assert.equal(t.overload.overloaded, false);
  for (const ticket of tickets) t.unary.release(ticket);
  assert.equal(t.overload.inFlight, 0);
});

Deno.test("overload: health and reflection get no gate", () => {
  assert.equal(limiter().health, null);
});

Deno.test("overload: a burst may wait up to interval; past it, calls are shed and overload begins", () => {
  const t = limiter();
  t.ticks(50, 0);
  const received = t.now;
  t.advance(99);
  for (let i = 0; i < SAMPLE_EVERY; i++) t.unary.admit(call(received));
  t.advance(2);
  // Only one call in SAMPLE_EVERY reads the clock while not overloaded.
  let error: RpcError | null = null;
  for (let i = 0; i < SAMPLE_EVERY && !error; i++) {
    try {
      t.unary.admit(call(received));
    } catch (thrown) {
      error = thrown as RpcError;
    }
  }
  assert.ok(error, "a call that waited 101 ms is shed");
  assert.equal(error.code, Status.UNAVAILABLE);
  assert.match(error.message, /overloaded/);
  assert.equal(t.overload.overloaded, true);
  assert.deepEqual(t.overload.rejections, { queue_delay: 1, concurrency: 0 });
});

Deno.test("overload: a standing queue (no timer on time for an interval) holds calls to targetDelay", () => {
  const t = limiter();
  t.ticks(75, 15);
  assert.equal(t.overload.overloaded, false, "75 ms of delay is a burst");
  t.ticks(25, 15);
  assert.equal(t.overload.overloaded, true, "over 100 ms is a standing queue");
  const read = t.now;
  t.advance(9);
  t.unary.admit(call(read));
  t.advance(2);
  shed(t.unary, call(read));
  shed(t.stream, call(read));
  assert.equal(t.overload.rejections.queue_delay, 2);
});

Deno.test("overload: a loop that has run no timer for longer than targetDelay sheds fresh reads too", () => {
  const t = limiter();
  t.ticks(200, 20);
  assert.equal(t.overload.overloaded, true);
  t.advance(PROBE_MS + 5);
  t.unary.admit(call(t.now));
  t.advance(6);
  // Read just now, but other connections' requests have waited 11 ms behind this stretch.
  shed(t.unary, call(t.now));
});

Deno.test("overload: shedding stops once the load drops, and overload ends a cool-down later", () => {
  const t = limiter();
  t.ticks(200, 20);
  t.advance(50);
  shed(t.unary, call(t.now - 50));
  // Load drops: the loop runs timers on time again, and calls wait little.
  t.ticks(100, 0);
  for (let i = 0; i < 50; i++) t.unary.release(t.unary.admit(call(t.now - 1)));
  assert.equal(t.overload.rejections.queue_delay, 1);
  assert.equal(t.overload.overloaded, true, "within the cool-down");
  t.ticks(COOL_DOWN_MS, 0);
  assert.equal(t.overload.overloaded, false);
});

Deno.test("overload: while overloaded, unary calls in flight are held to rate x (min latency + target)", () => {
  const t = limiter();
  // One second at 1,000 calls/s, each sampled call taking 5 ms.
  for (let bucket = 0; bucket < 10; bucket++) {
    for (let i = 0; i < 100; i++) {
      const ticket = t.unary.admit(call(t.now));
      t.advance(0.05);
      if (ticket > 0) t.advance(5);
      t.unary.release(ticket);
      if (ticket > 0) t.advance(-5);
    }
    t.advance(BUCKET_MS - 5);
    t.overload.tick(0, t.now);
  }
  assert.ok(t.overload.limit >= 14 && t.overload.limit <= 16, `limit ${t.overload.limit}`);
  t.ticks(200, 20);
  const limit = t.overload.limit;
  for (let i = 0; i < limit; i++) t.unary.admit(call(t.now));
  const error = shed(t.unary, call(t.now));
  assert.match(error.message, /in flight/);
  assert.equal(t.overload.rejections.concurrency, 1);
  // Streams are not counted, and a stream's start is not held to the unary limit.
  t.stream.admit(call(t.now));
});

Deno.test("overload: the concurrency limit is unmeasured (Infinity) before any latency sample", () => {
  const t = limiter();
  assert.equal(t.overload.limit, Infinity);
  t.ticks(200, 20);
  for (let i = 0; i < 100; i++) t.unary.admit(call(t.now));
  assert.equal(t.overload.inFlight, 100);
});

Deno.test("pass window: a bucket held open by a long run counts at its real length", () => {
  const window = new PassWindow(0);
  for (let i = 0; i < 100; i++) window.pass();
  window.latency(2);
  assert.equal(window.roll(50), false, "not a bucket yet");
  assert.equal(window.roll(1_000), true);
  // 100 calls in 1 s, not in 100 ms: 100/s x (2 + 10) ms = 1.2, rounded.
  assert.equal(window.inFlightLimit(10), 1);
});

Deno.test("pass window: max rate and min latency are taken over the window's buckets", () => {
  const window = new PassWindow(0);
  let now = 0;
  const bucket = (passes: number, latency: number) => {
    for (let i = 0; i < passes; i++) window.pass();
    window.latency(latency);
    now += BUCKET_MS;
    window.roll(now);
  };
  bucket(50, 4); // 500/s
  bucket(100, 8); // 1,000/s
  bucket(10, 20);
  // 1,000/s x (4 + 10) ms
  assert.equal(window.inFlightLimit(10), 14);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("loop delay probe: ticks while its callback says so, and can start again", async () => {
  let ticks = 0;
  const probe = new LoopDelayProbe((delay) => {
    assert.ok(delay >= 0);
    return ++ticks < 3;
  });
  probe.start(performance.now());
  assert.equal(probe.running, true);
  await sleep(PROBE_MS * 8);
  assert.equal(ticks, 3);
  assert.equal(probe.running, false);
  probe.start(performance.now());
  await sleep(PROBE_MS * 3);
  assert.equal(ticks, 4);
  probe.stop();
});

Deno.test("overload: the probe stops while no call comes; the first call after is not shed", async () => {
  const overload = new OverloadLimiter(SETTINGS);
  const gate = overload.admissionFor(() => false)({ service: "pkg.Work", kind: "unary" })!;
  try {
    assert.equal(overload.probing, false, "no call yet, no timer");
    gate.release(gate.admit(call(performance.now())));
    assert.equal(overload.probing, true);
    await sleep(PROBE_MS * 6);
    assert.equal(overload.probing, false, "idle: stopped");
    await sleep(300);
    // 300 ms without a tick would look like a stalled loop, had the first call not reset it.
    for (let i = 0; i < 2 * SAMPLE_EVERY; i++) gate.release(gate.admit(call(performance.now())));
    assert.deepEqual(overload.rejections, { queue_delay: 0, concurrency: 0 });
    assert.equal(overload.probing, true);
  } finally {
    overload.stop();
  }
});
