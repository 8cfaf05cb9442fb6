// The connect-node contender for the web-protocol cases: @connectrpc/connect-node's
// connectNodeAdapter (gRPC, gRPC-Web and Connect all on) serving
// helloworld.Greeter/SayHello as the demo handler does (handlers/greeter.ts:
// "Hello, <name>!") and bench.Echo/Say (the reply is the request), which the
// bench's cold-start probe calls over gRPC.
//
//   node bench/servers/connect_node_server.mjs PORT DESCRIPTOR_SET
//
// DESCRIPTOR_SET is a protoc `--descriptor_set_out --include_imports` of
// proto/helloworld.proto and bench/proto/bench.proto (the bench writes it into
// bench/.node at setup): the descriptors codegen would embed, without codegen.
// Node resolves the packages from the repository's node_modules, where Deno's
// layout links them.
//
// One port serves HTTP/2 without TLS (node:http2) and HTTP/1.1 (node:http),
// told apart by the connection's first bytes as svc does: cleartext HTTP/2
// always opens with the "PRI * HTTP/2.0" preface.
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import process from "node:process";
import { Buffer } from "node:buffer";

const [port, descriptorSet] = process.argv.slice(2);
const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSet)),
);
const greeter = registry.getService("helloworld.Greeter");
const echo = registry.getService("bench.Echo");
if (!greeter || !echo) throw new Error(`${descriptorSet} lacks helloworld.Greeter or bench.Echo`);

const handler = connectNodeAdapter({
  grpc: true,
  grpcWeb: true,
  connect: true,
  routes(router) {
    router.service(greeter, {
      sayHello: (req) => ({ message: `Hello, ${req.name || "world"}!` }),
    });
    router.service(echo, {
      say: (req) => ({ payload: req.payload }),
    });
  },
});

const h2 = http2.createServer(handler);
const h1 = http.createServer(handler);
// "PRI" starts the HTTP/2 preface; no HTTP/1.1 method does.
const PREFACE = Buffer.from("PRI");

const server = net.createServer((socket) => {
  socket.once("data", (first) => {
    socket.pause();
    socket.unshift(first);
    const target = first.subarray(0, 3).equals(PREFACE) ? h2 : h1;
    target.emit("connection", socket);
    process.nextTick(() => socket.resume());
  });
  socket.on("error", () => socket.destroy());
});

// Exit normally on a signal, as the other contenders do.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));

server.listen(Number(port), "127.0.0.1", () => console.log(`listening 127.0.0.1:${port}`));
