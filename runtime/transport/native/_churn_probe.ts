/**
 * For open_streams_test.ts and deadlines_test.ts: 600,000 calls, 32 at a
 * time, each opened and closed through one long-lived structure that a
 * mark-compact put in the old generation first, as under load; prints the
 * peak V8 heap in MiB.
 *
 *   deno run --v8-flags=--expose-gc runtime/transport/native/_churn_probe.ts KIND
 *
 * KIND: `map` (a Map by id), `open` (OpenStreams), `timers` (a setTimeout
 * per call, cleared when it ends), `deadlines` (Deadlines).
 * @module
 */
import { Deadlines } from "../deadlines.ts";
import { OpenStreams } from "./open_streams.ts";

interface Call {
  readonly id: number;
  readonly state: number[];
  readonly deadline: number;
  deadlineSlot: number;
  timer?: ReturnType<typeof setTimeout>;
  deadlineExpired(): void;
}

const kind = Deno.args[0];
const map = new Map<number, Call>();
const streams = new OpenStreams<Call>();
const deadlines = new Deadlines();
const never = () => {
  throw new Error("no deadline should pass");
};

function open(call: Call): void {
  if (kind === "map") map.set(call.id, call);
  else if (kind === "open") streams.set(call.id, call);
  else if (kind === "timers") call.timer = setTimeout(never, 600_000);
  else if (kind === "deadlines") deadlines.add(call);
  else throw new Error(`unknown kind ${kind}`);
}

function close(call: Call): void {
  if (kind === "map") map.delete(call.id);
  else if (kind === "open") streams.delete(call.id);
  else if (kind === "timers") clearTimeout(call.timer);
  else deadlines.remove(call);
}

const inFlight: Call[] = [];
let next = 1;
const start = () => {
  const call: Call = {
    id: next,
    state: new Array(64).fill(next),
    deadline: Date.now() + 600_000,
    deadlineSlot: -1,
    deadlineExpired: never,
  };
  open(call);
  inFlight.push(call);
  next += 2;
};
for (let i = 0; i < 32; i++) start();
(globalThis as { gc?: () => void }).gc?.();
let peak = 0;
for (let i = 0; i < 600_000; i++) {
  close(inFlight.shift()!);
  start();
  if (i % 1000 === 0) peak = Math.max(peak, Deno.memoryUsage().heapUsed);
}
for (const call of inFlight) close(call);
console.log((peak / 1048576).toFixed(1));
