// Bidi ping-pong load on raw node:http2: CONNS connections, STREAMS bidi
// calls on each; every call sends one message, waits for its echo, sends the
// next, for SECONDS. Prints one JSON line: round trips, rate, latency
// percentiles (µs), and how many calls ended with grpc-status 0.
//
//   node pingpong.mjs PORT CONNS STREAMS SECONDS SIZE
import http2 from "node:http2";
import process from "node:process";
import { createDeframer, encodeMsg, frame, grpcHeaders } from "./_grpc_frames.mjs";

const [port, conns, streams, seconds, size] = process.argv.slice(2).map(Number);
const request = frame(encodeMsg(size));
const headers = grpcHeaders("/bench.Echo/Ping");
const latencies = [];
let roundTrips = 0;
let okCalls = 0;
let failedCalls = 0;
const failures = new Set();
const started = performance.now();
const endAt = started + seconds * 1000;

function runCall(session) {
  return new Promise((resolve) => {
    const call = session.request(headers, { endStream: false });
    const deframe = createDeframer();
    let sentAt = 0;
    let status = null;
    const send = () => {
      sentAt = performance.now();
      call.write(request);
    };
    call.on("data", (chunk) => {
      for (const _ of deframe(chunk)) {
        const now = performance.now();
        roundTrips++;
        latencies.push((now - sentAt) * 1000);
        if (now < endAt) send();
        else call.end();
      }
    });
    call.on("response", (h) => {
      if (h["grpc-status"] !== undefined) status = h["grpc-status"]; // trailers-only
    });
    call.on("trailers", (t) => status = t["grpc-status"]);
    call.on("error", (e) => failures.add(e.message));
    call.on("close", () => {
      if (status === "0") okCalls++;
      else {
        failedCalls++;
        failures.add(`grpc-status ${status}`);
      }
      resolve();
    });
    send();
  });
}

const sessions = [];
const calls = [];
for (let c = 0; c < conns; c++) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", (e) => failures.add(e.message));
  sessions.push(session);
  for (let s = 0; s < streams; s++) calls.push(runCall(session));
}
const watchdog = setTimeout(() => {
  failures.add("calls did not end within 10 s of the deadline");
  finish();
}, seconds * 1000 + 10_000);
await Promise.all(calls);
finish();

function finish() {
  clearTimeout(watchdog);
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0;
  console.log(JSON.stringify({
    roundTrips,
    seconds: elapsed,
    rate: roundTrips / elapsed,
    p50us: pct(0.5),
    p99us: pct(0.99),
    okCalls,
    failedCalls,
    failures: [...failures].slice(0, 5),
  }));
  for (const s of sessions) s.destroy();
  process.exit(failedCalls || failures.size ? 1 : 0);
}
