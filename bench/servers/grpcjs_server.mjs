// A bare @grpc/grpc-js Echo server, written the common way (proto-loader +
// loadPackageDefinition). The bench runs this same file on Deno and on Node.
//
//   deno run -A bench/servers/grpcjs_server.mjs PORT
//   node bench/.node/grpcjs_server.mjs PORT     (a copy beside Node's node_modules)
//
// For the transport investigation (bench/README.md), two variables change
// the server; unset, it is exactly what a user would write:
//   BENCH_GRPC_OPTIONS (JSON): grpc-js server options,
//     e.g. '{"grpc-node.max_session_memory": 64}';
//   BENCH_HTTP2_SETTINGS (JSON): node:http2 settings grpc-js has no option
//     for, merged into http2.createServer's, e.g. '{"initialWindowSize": 1048576}'.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import process from "node:process";

if (process.env.BENCH_HTTP2_SETTINGS) {
  const extra = JSON.parse(process.env.BENCH_HTTP2_SETTINGS);
  const createServer = http2.createServer;
  http2.createServer = (options, ...rest) =>
    createServer({ ...options, settings: { ...options?.settings, ...extra } }, ...rest);
}

const [port, protoPath] = process.argv.slice(2);
const definition = protoLoader.loadSync(protoPath, {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { bench } = grpc.loadPackageDefinition(definition);

const server = new grpc.Server(JSON.parse(process.env.BENCH_GRPC_OPTIONS || "{}"));
server.addService(bench.Echo.service, {
  Say(call, callback) {
    callback(null, call.request);
  },
  Stream(call) {
    const reply = { payload: call.request.payload };
    for (let i = 0; i < call.request.count; i++) call.write(reply);
    call.end();
  },
  Ping(call) {
    call.on("data", (msg) => call.write(msg));
    call.on("end", () => call.end());
  },
  // Client streaming: the reply is the last request (an empty Msg if none came).
  Collect(call, callback) {
    let last = { payload: Buffer.alloc(0) };
    call.on("data", (msg) => {
      last = msg;
    });
    call.on("end", () => callback(null, last));
  },
});
// Exit normally on a signal, so `deno run --cpu-prof` writes its profile.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));

server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
  if (error) {
    console.error(error.message);
    process.exit(1);
  }
  console.log(`listening ${bound}`);
});
