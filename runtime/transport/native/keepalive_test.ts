// Unit tests of the keepalive timers; the connection-level behaviour is in connection_test.ts.
import assert from "node:assert/strict";
import { testLimits } from "./_testing.ts";
import { Keepalive, TickAction } from "./keepalive.ts";
import type { NativeLimits } from "./limits.ts";
import type { OutputWriter } from "./output_writer.ts";

function keepalive(overrides: Partial<NativeLimits> = {}, stuck = false) {
  let pings = 0;
  const writer = { stuck: () => stuck, ping: () => pings++ } as unknown as OutputWriter;
  const k = new Keepalive(testLimits(overrides), writer);
  // At or after the Keepalive's own clock reading: "past" checks below hold; "not yet" ones have margin.
  return { k, start: performance.now(), pings: () => pings };
}

Deno.test("keepalive: no preface in time, and nothing else before it", () => {
  const { k, start } = keepalive({ prefaceTimeout: 100, keepaliveTime: 10 });
  assert.equal(k.tick(start + 50, false, 0, false), TickAction.None);
  assert.equal(k.tick(start + 110, false, 0, false), TickAction.NoPreface);
});

Deno.test("keepalive: a PING after keepaliveTime without reads, destroy if unanswered", () => {
  const { k, start, pings } = keepalive({ keepaliveTime: 100, keepaliveTimeout: 50 });
  assert.equal(k.tick(start + 110, true, 1, false), TickAction.None);
  assert.equal(pings(), 1);
  assert.equal(k.tick(start + 140, true, 1, false), TickAction.None);
  assert.equal(pings(), 1);
  assert.equal(k.tick(start + 170, true, 1, false), TickAction.PingUnanswered);
  // A read answers it.
  const again = keepalive({ keepaliveTime: 100, keepaliveTimeout: 50 });
  again.k.tick(again.start + 110, true, 1, false);
  again.k.readSinceTick = true;
  assert.equal(again.k.tick(again.start + 170, true, 1, false), TickAction.None);
  assert.equal(again.pings(), 1);
});

Deno.test("keepalive: a writer that stopped moving destroys the connection", () => {
  const { k, start } = keepalive({}, true);
  assert.equal(k.tick(start + 1, true, 1, false), TickAction.StoppedReading);
});

Deno.test("keepalive: idle drains; age drains, then closes after the grace", () => {
  const idle = keepalive({ maxConnectionIdle: 100 });
  idle.k.idleSince = Infinity;
  assert.equal(idle.k.tick(idle.start + 200, true, 1, false), TickAction.None);
  idle.k.idleSince = idle.start + 50;
  assert.equal(idle.k.tick(idle.start + 151, true, 0, false), TickAction.Drain);
  assert.equal(idle.k.tick(idle.start + 151, true, 0, true), TickAction.None);

  const old = keepalive({ maxConnectionAge: 1000, maxConnectionAgeGrace: 500 });
  assert.equal(old.k.tick(old.start + 850, true, 1, false), TickAction.None);
  const at = old.start + 1110; // past the age with any jitter (±10%)
  assert.equal(old.k.tick(at, true, 1, false), TickAction.Drain);
  assert.equal(old.k.tick(at + 490, true, 1, true), TickAction.None);
  assert.equal(old.k.tick(at + 510, true, 1, true), TickAction.Close);
});
