/**
 * For open_streams_test.ts: opens and closes 600,000 streams, 32 open at a
 * time, through a Map or OpenStreams put in the old generation first, and
 * prints the peak V8 heap in MiB.
 *
 *   deno run --v8-flags=--expose-gc runtime/transport/native/_churn_probe.ts map|open
 * @module
 */
import { OpenStreams } from "./open_streams.ts";

interface Stream {
  readonly id: number;
  readonly state: number[];
}

const table = Deno.args[0] === "map" ? new Map<number, Stream>() : new OpenStreams<Stream>();
const open: Stream[] = [];
let next = 1;
const start = () => {
  const stream = { id: next, state: new Array(64).fill(next) };
  table.set(next, stream);
  open.push(stream);
  next += 2;
};
for (let i = 0; i < 32; i++) start();
(globalThis as { gc?: () => void }).gc?.();
let peak = 0;
for (let i = 0; i < 600_000; i++) {
  table.delete(open.shift()!.id);
  start();
  if (i % 1000 === 0) peak = Math.max(peak, Deno.memoryUsage().heapUsed);
}
console.log((peak / 1048576).toFixed(1));
