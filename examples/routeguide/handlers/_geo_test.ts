import assert from "node:assert/strict";
import { distance } from "./_geo.ts";

Deno.test("distance() is zero between a point and itself", () => {
  const p = { latitude: 525_162_750, longitude: 133_777_040 };
  assert.equal(distance(p, p), 0);
});

Deno.test("distance() gives one degree of longitude at the equator as about 111 km", () => {
  const d = distance({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 10_000_000 });
  assert.ok(Math.abs(d - 111_195) < 1, `got ${d}`);
});

Deno.test("distance() between Brandenburg Gate and TV Tower is about 2.2 km", () => {
  const gate = { latitude: 525_162_750, longitude: 133_777_040 };
  const tower = { latitude: 525_208_150, longitude: 134_094_190 };
  const d = distance(gate, tower);
  assert.ok(d > 2_100 && d < 2_300, `got ${d}`);
  assert.equal(d, distance(tower, gate));
});
