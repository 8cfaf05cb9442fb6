import assert from "node:assert/strict";
import { type IdleReclaimOptions, startIdleReclaim } from "./idle_reclaim.ts";
import type { Logger } from "../core/logger.ts";

const MiB = 1024 * 1024;

const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => quiet,
  enabled: () => false,
};

/** A reclaimer driven by hand: memory and calls are what the test says, time too. */
function rig() {
  const state = {
    used: 40 * MiB,
    calls: 0,
    clock: 0,
    reclaimed: 0,
    pagedOut: [] as number[],
    trimmed: [] as number[],
  };
  const reclaim = startIdleReclaim({
    sampler: { measure: "anon_rss", sample: () => state.used, close() {} },
    reclaimer: () => ({
      trims: true,
      reclaim() {
        state.reclaimed++;
        state.used = 45 * MiB;
      },
      trim() {
        state.trimmed.push(state.clock);
      },
      close() {},
    }),
    releaseExecutablePages: () => {
      state.pagedOut.push(state.clock);
      return Promise.resolve({
        advisedMiB: 105,
        rssFileMiB: [60, 12],
        refused: 0,
        pauseMs: 0.5,
        tookMs: 20,
      });
    },
    callsStarted: () => state.calls,
    log: quiet,
    now: () => state.clock,
  }, false);
  /** One second: `calls` calls, memory at `usedMiB`; whether it reclaimed. */
  const second = (calls: number, usedMiB: number) => {
    state.calls += calls;
    state.used = usedMiB * MiB;
    state.clock += 1_000;
    return reclaim.check();
  };
  return { state, second, reclaim };
}

Deno.test("a busy spell that grew memory is reclaimed after two quiet seconds, once", () => {
  const { state, second } = rig();
  assert.equal(second(50_000, 150), false, "busy");
  assert.equal(second(60_000, 250), false, "busy");
  assert.equal(second(5_000, 250), false, "a lower rate is not quiet");
  assert.equal(second(80, 250), false, "one quiet second");
  assert.equal(second(0, 250), true, "two quiet seconds");
  assert.equal(state.reclaimed, 1);
  assert.equal(second(0, 45), false, "nothing grew since");
  assert.equal(second(0, 45), false);
});

Deno.test("no reclaim while calls keep coming, or when memory did not grow enough", () => {
  const { state, second } = rig();
  for (let i = 0; i < 10; i++) assert.equal(second(50_000, 200 + i), false, "steady load");
  assert.equal(second(0, 60), false);
  assert.equal(second(0, 60), false, "quiet, but only 20 MiB over where it began");
  assert.equal(state.reclaimed, 0);
});

Deno.test("a second spell soon after waits for the gap between reclaims", () => {
  const { state, second } = rig();
  second(50_000, 200);
  second(0, 200);
  assert.equal(second(0, 200), true);
  second(50_000, 200);
  second(0, 200);
  assert.equal(second(0, 200), false, "3 s after the last reclaim");
  for (let i = 0; i < 6; i++) assert.equal(second(0, 200), false);
  assert.equal(second(0, 200), true, "10 s after it");
  assert.equal(state.reclaimed, 2);
});

Deno.test("the executable's pages go back once, at the first calm moment, not under load", () => {
  const { state, second } = rig(); // memory does not grow: no reclaim
  second(50_000, 40);
  second(50_000, 40);
  second(100, 40);
  assert.deepEqual(state.pagedOut, [], "one calm second is not enough");
  second(50_000, 40);
  second(20, 40);
  second(0, 40);
  assert.deepEqual(state.pagedOut, [6_000], "two calm seconds in a row");
  for (let i = 0; i < 5; i++) second(0, 40);
  second(50_000, 40);
  second(0, 40);
  second(0, 40);
  assert.deepEqual(state.pagedOut, [6_000], "once only");
});

Deno.test("a process that starts idle gives them back two seconds in", () => {
  const { state, second } = rig();
  second(0, 40);
  second(3, 40);
  assert.deepEqual(state.pagedOut, [2_000]);
});

Deno.test("not in the same second as a reclaim: the two pauses do not add up", () => {
  const { state, second } = rig();
  second(50_000, 200);
  second(50_000, 200);
  assert.equal(second(0, 200), false);
  assert.equal(second(0, 200), true, "the reclaim");
  assert.deepEqual(state.pagedOut, []);
  second(0, 45);
  assert.deepEqual(state.pagedOut, [5_000], "the next calm second");
});

Deno.test("under steady load malloc is trimmed once the load has lasted five seconds, then once a minute", () => {
  const { state, second, reclaim } = rig();
  second(0, 40);
  second(0, 40);
  assert.deepEqual(state.pagedOut, [2_000], "started idle: the start-up pages went at once");
  for (let i = 0; i < 4; i++) second(50_000, 90);
  assert.deepEqual(state.trimmed, [], "four busy seconds: still warming up");
  second(50_000, 90);
  assert.deepEqual(state.trimmed, [7_000], "the fifth");
  for (let i = 0; i < 59; i++) second(50_000, 120);
  assert.deepEqual(state.trimmed, [7_000], "not again within the minute");
  second(50_000, 120);
  assert.deepEqual(state.trimmed, [7_000, 67_000], "a minute later, 30 MiB more");
  for (let i = 0; i < 70; i++) second(50_000, 125);
  assert.deepEqual(state.trimmed, [7_000, 67_000], "5 MiB more is not worth a pause");
  assert.equal(reclaim.loadTrims, 2);
  assert.equal(state.reclaimed, 0, "no GC under load");
});

Deno.test("a process that starts under load gives back its start-up pages once the load has settled", () => {
  const { state, second } = rig();
  for (let i = 0; i < 4; i++) second(50_000, 90);
  assert.deepEqual(state.pagedOut, []);
  second(50_000, 90);
  assert.deepEqual(state.pagedOut, [5_000], "the fifth busy second");
  assert.deepEqual(state.trimmed, [], "not in the same second");
  second(50_000, 90);
  assert.deepEqual(state.trimmed, [6_000], "the trim follows a second later");
  second(0, 90);
  second(0, 90);
  assert.deepEqual(state.pagedOut, [5_000], "once only");
});

Deno.test("a dip in the load starts the five seconds again", () => {
  const { state, second } = rig();
  second(0, 40);
  second(0, 40);
  for (let i = 0; i < 4; i++) second(50_000, 90);
  second(50, 90);
  for (let i = 0; i < 4; i++) second(50_000, 90);
  assert.deepEqual(state.trimmed, []);
  second(50_000, 90);
  assert.deepEqual(state.trimmed, [12_000]);
});

Deno.test("a steady load that grows no memory is never paused for a trim", () => {
  const { state, second } = rig();
  for (let i = 0; i < 120; i++) second(5_000, 44);
  assert.deepEqual(state.trimmed, [], "4 MiB over the start");
  assert.deepEqual(state.pagedOut, [5_000], "the start-up pages still go, once");
});

/** A watch with no traffic and no reclaimer: only the start-up pages can happen; `onClose` counts closes. */
function idleWatch(release: IdleReclaimOptions["releaseExecutablePages"], onClose = () => {}) {
  return startIdleReclaim({
    sampler: { measure: "anon_rss", sample: () => 40 * MiB, close: onClose },
    reclaimer: () => null,
    releaseExecutablePages: release,
    callsStarted: () => 0,
    log: quiet,
    now: () => 0,
  }, false);
}

Deno.test("once stopped (shutdown began), a calm moment releases nothing, and stop can be called again", () => {
  let closed = 0;
  const released: number[] = [];
  const reclaim = idleWatch(() => {
    released.push(1);
    return Promise.resolve({ skipped: "not run" });
  }, () => closed++);
  reclaim.stop();
  reclaim.stop();
  for (let i = 0; i < 5; i++) assert.equal(reclaim.check(), false);
  assert.deepEqual(released, [], "no release after stop");
  assert.equal(closed, 1, "the sampler is closed once");
});

Deno.test("stopping the watch aborts a release of the start-up pages still under way", async () => {
  const signals: AbortSignal[] = [];
  let finish = () => {};
  const reclaim = idleWatch((signal) => {
    signals.push(signal);
    return new Promise((resolve) => {
      finish = () => resolve({ skipped: "stopped" });
    });
  });
  reclaim.check();
  reclaim.check();
  assert.equal(signals.length, 1, "two calm seconds: the release began");
  assert.equal(signals[0].aborted, false);
  reclaim.stop();
  assert.equal(signals[0].aborted, true, "shutdown is no moment to go on unmapping");
  finish();
  await Promise.resolve();
});
