// Correctness check with a real gRPC client (@grpc/grpc-js + proto-loader):
// a 12-byte and a 64 KiB unary echo, a 1000-message server stream and three
// bidi round trips, each compared byte for byte, and with `collect` a
// 100-message client stream (a baseline svc may not serve Collect). Prints
// "ok" or the failure.
//
//   node check.mjs PORT PROTO [collect]
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Buffer } from "node:buffer";
import process from "node:process";

const [port, protoPath, extra] = process.argv.slice(2);
const { bench } = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { defaults: true }));
const client = new bench.Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.set("x-api-key", "bench");
const deadline = () => ({ deadline: Date.now() + 10_000 });

function say(payload) {
  return new Promise((resolve, reject) => {
    client.Say({ payload }, metadata, deadline(), (error, reply) => {
      if (error) reject(error);
      else if (!Buffer.from(reply.payload).equals(payload)) reject(new Error("Say: wrong echo"));
      else resolve();
    });
  });
}

function stream(count, payload) {
  return new Promise((resolve, reject) => {
    let received = 0;
    const call = client.Stream({ count, payload }, metadata, deadline());
    call.on("data", (m) => {
      if (!Buffer.from(m.payload).equals(payload)) reject(new Error("Stream: wrong payload"));
      received++;
    });
    call.on("error", reject);
    call.on("status", (s) => {
      if (s.code !== 0) reject(new Error(`Stream: status ${s.code} ${s.details}`));
      else if (received !== count) reject(new Error(`Stream: ${received} of ${count} messages`));
      else resolve();
    });
  });
}

function ping(rounds) {
  return new Promise((resolve, reject) => {
    const call = client.Ping(metadata, deadline());
    let n = 0;
    call.on("data", (m) => {
      if (Buffer.from(m.payload).toString() !== `ping ${n}`) reject(new Error("Ping: wrong echo"));
      if (++n < rounds) call.write({ payload: Buffer.from(`ping ${n}`) });
      else call.end();
    });
    call.on("error", reject);
    call.on("status", (s) => {
      if (s.code !== 0) reject(new Error(`Ping: status ${s.code} ${s.details}`));
      else if (n !== rounds) reject(new Error(`Ping: ${n} of ${rounds} replies`));
      else resolve();
    });
    call.write({ payload: Buffer.from("ping 0") });
  });
}

function collect(count) {
  return new Promise((resolve, reject) => {
    const call = client.Collect(metadata, deadline(), (error, reply) => {
      if (error) reject(error);
      else if (Buffer.from(reply.payload).toString() !== `msg ${count - 1}`) {
        reject(new Error("Collect: the reply is not the last request"));
      } else resolve();
    });
    for (let i = 0; i < count; i++) call.write({ payload: Buffer.from(`msg ${i}`) });
    call.end();
  });
}

try {
  await say(Buffer.from("0123456789"));
  await say(Buffer.alloc(65536, 7));
  await stream(1000, Buffer.from("0123456789"));
  await ping(3);
  if (extra === "collect") await collect(100);
  console.log("ok");
  client.close();
  process.exit(0);
} catch (error) {
  console.log(`failed: ${error.message}`);
  process.exit(1);
}
