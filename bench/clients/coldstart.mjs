// Cold-start probe: prints "ready", then calls /bench.Echo/Say on PORT every
// 2 ms (a fresh connection each time) until one answers grpc-status 0, then
// prints "ok ATTEMPTS" and exits. The bench starts the server right after
// "ready" and stops its clock at "ok". Gives up after TIMEOUT_MS.
//
//   node coldstart.mjs PORT TIMEOUT_MS
import http2 from "node:http2";
import process from "node:process";
import { createDeframer, encodeMsg, frame, grpcHeaders } from "./_grpc_frames.mjs";

const [port, timeoutMs] = process.argv.slice(2).map(Number);
const request = frame(encodeMsg(10));
const headers = grpcHeaders("/bench.Echo/Say");
const giveUp = setTimeout(() => {
  console.log("timeout");
  process.exit(1);
}, timeoutMs);

function attempt() {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let status = null;
    let replies = 0;
    const done = (ok) => {
      session.destroy();
      resolve(ok);
    };
    session.on("error", () => done(false));
    const call = session.request(headers);
    const deframe = createDeframer();
    call.on("error", () => done(false));
    call.on("data", (chunk) => replies += deframe(chunk).length);
    call.on("response", (h) => {
      if (h["grpc-status"] !== undefined) status = h["grpc-status"];
    });
    call.on("trailers", (t) => status = t["grpc-status"]);
    call.on("close", () => done(status === "0" && replies === 1));
    call.end(request);
  });
}

console.log("ready");
for (let attempts = 1;; attempts++) {
  if (await attempt()) {
    console.log(`ok ${attempts}`);
    clearTimeout(giveUp);
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 2));
}
