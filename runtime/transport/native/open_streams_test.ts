import assert from "node:assert/strict";
import { CHURN_PEAK_LIMIT_MIB, churnPeakMiB } from "./_churn_probe_run.ts";
import { OpenStreams } from "./open_streams.ts";

interface Stream {
  readonly id: number;
}

Deno.test("OpenStreams: get, set, delete, size, values and clear, as a Map does", () => {
  const streams = new OpenStreams<Stream>();
  const one = { id: 1 };
  const three = { id: 3 };
  const five = { id: 5 };
  streams.set(1, one).set(3, three).set(5, five);
  assert.equal(streams.size, 3);
  assert.equal(streams.get(3), three);
  assert.equal(streams.get(2), undefined);
  assert.equal(streams.get(7), undefined);
  assert.equal(streams.delete(3), true);
  assert.equal(streams.delete(3), false);
  assert.equal(streams.get(3), undefined);
  assert.deepEqual(streams.values(), [one, five]);
  assert.equal(streams.delete(5), true);
  assert.deepEqual(streams.values(), [one]);
  streams.set(7, { id: 7 });
  assert.equal(streams.size, 2);
  streams.clear();
  assert.equal(streams.size, 0);
  assert.deepEqual(streams.values(), []);
  assert.equal(streams.get(1), undefined);
  streams.set(9, { id: 9 });
  assert.equal(streams.get(9)?.id, 9);
});

Deno.test("OpenStreams: ids must increase, as a client's stream ids do", () => {
  const streams = new OpenStreams<Stream>();
  streams.set(5, { id: 5 });
  assert.throws(() => streams.set(3, { id: 3 }), /stream 3 added after stream 5/);
  streams.delete(5);
  // Once no stream is open the table forgets the last id; the stream table's own
  // lastStreamId is what keeps a client's ids increasing (RFC 9113 §5.1.1).
  streams.set(7, { id: 7 });
});

Deno.test("OpenStreams: agrees with a Map over random opens and closes (compaction included)", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const streams = new OpenStreams<Stream>();
  const model = new Map<number, Stream>();
  let next = 1;
  for (let step = 0; step < 50_000; step++) {
    const open = [...model.keys()];
    if (open.length === 0 || random() < 0.52 || (open.length < 3 && random() < 0.8)) {
      const stream = { id: next };
      streams.set(next, stream);
      model.set(next, stream);
      next += 2 + 2 * Math.floor(random() * 3);
    } else {
      // Mostly the oldest (FIFO, as unary calls end), sometimes any, sometimes a long-lived one stays.
      const id = random() < 0.7 ? open[0] : open[Math.floor(random() * open.length)];
      if (id === 1 && random() < 0.99) continue;
      assert.equal(streams.delete(id), model.delete(id));
    }
    if (step % 97 === 0) {
      assert.equal(streams.size, model.size);
      assert.deepEqual(streams.values(), [...model.values()]);
      const probe = 1 + 2 * Math.floor(random() * (next / 2));
      assert.equal(streams.get(probe), model.get(probe));
    }
  }
  assert.deepEqual(streams.values(), [...model.values()]);
});

Deno.test("OpenStreams: churn does not keep finished streams alive, as a Map's does", async () => {
  const { open, map } = { open: await churnPeakMiB("open"), map: await churnPeakMiB("map") };
  assert.ok(open < CHURN_PEAK_LIMIT_MIB, `peak heap ${open} MiB with OpenStreams (a Map: ${map})`);
});
