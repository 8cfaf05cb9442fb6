// Correctness check for a web-protocol case: sends the case's own request
// (same path, headers and body as h2load, over the same HTTP version) and
// checks the answer byte for byte: HTTP 200, and for Connect JSON the
// {"message":"Hello, NAME!"} object; for gRPC-Web one HelloReply frame with
// that message, then a trailer frame with grpc-status 0 and nothing after.
// Prints "ok BODY_BYTES" (the bench then checks h2load received that many
// body bytes per call) or the failure.
//
//   node check_web.mjs PORT HTTP(1.1|2) PROTOCOL(connect-json|grpc-web) PATH BODY_FILE NAME HEADERS_JSON
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import process from "node:process";

const [port, version, protocol, path, bodyFile, name, headersJson] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const headers = Object.fromEntries(
  JSON.parse(headersJson).map((h) => [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 1)]),
);
const TIMEOUT_MS = 10_000;

/** POSTs the request over HTTP/1.1; resolves with status, headers and body. */
function post1() {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: "127.0.0.1",
      port: Number(port),
      method: "POST",
      path,
      headers: { ...headers, "content-length": body.length },
      agent: false,
      timeout: TIMEOUT_MS,
    }, (response) => {
      const chunks = [];
      response.on("data", (c) => chunks.push(c));
      response.on(
        "end",
        () =>
          resolve({
            status: response.statusCode,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
      );
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", reject);
    request.end(body);
  });
}

/** POSTs the request over HTTP/2 without TLS; resolves with status, headers and body. */
function post2() {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const fail = (error) => {
      session.destroy();
      reject(error);
    };
    session.on("error", fail);
    session.setTimeout(TIMEOUT_MS, () => fail(new Error("timed out")));
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let head = {};
    const chunks = [];
    stream.on("response", (h) => head = h);
    stream.on("data", (c) => chunks.push(c));
    stream.on("error", fail);
    stream.on("end", () => {
      session.close();
      resolve({ status: head[":status"], headers: head, body: Buffer.concat(chunks) });
    });
    stream.end(body);
  });
}

/** `helloworld.HelloReply { message }` as protobuf bytes (a message under 128 bytes). */
function helloReply(message) {
  const text = Buffer.from(message);
  return Buffer.concat([Buffer.from([0x0a, text.length]), text]);
}

function checkConnectJson(response, expected) {
  const type = String(response.headers["content-type"]);
  if (!type.startsWith("application/json")) throw new Error(`content-type ${type}`);
  const got = JSON.parse(response.body.toString());
  if (JSON.stringify(got) !== JSON.stringify({ message: expected })) {
    throw new Error(`reply ${response.body.toString()}`);
  }
}

function checkGrpcWeb(response, expected) {
  const type = String(response.headers["content-type"]);
  if (!type.startsWith("application/grpc-web")) throw new Error(`content-type ${type}`);
  if (response.headers["grpc-status"] !== undefined) {
    throw new Error(`trailers-only answer, grpc-status ${response.headers["grpc-status"]}`);
  }
  const frames = [];
  let rest = response.body;
  while (rest.length >= 5) {
    const length = rest.readUInt32BE(1);
    if (rest.length < 5 + length) break;
    frames.push({ flags: rest[0], data: rest.subarray(5, 5 + length) });
    rest = rest.subarray(5 + length);
  }
  if (rest.length) throw new Error(`${rest.length} stray bytes after the frames`);
  const [message, trailer, ...more] = frames;
  if (!message || message.flags !== 0 || !message.data.equals(helloReply(expected))) {
    throw new Error(
      `first frame is not HelloReply "${expected}": ${response.body.toString("hex")}`,
    );
  }
  if (!trailer || trailer.flags !== 0x80 || more.length) {
    throw new Error(`no single trailer frame after the message: ${response.body.toString("hex")}`);
  }
  const trailers = Object.fromEntries(
    trailer.data.toString().split("\r\n").filter(Boolean).map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  if (trailers["grpc-status"] !== "0") throw new Error(`grpc-status ${trailers["grpc-status"]}`);
}

try {
  const response = await (version === "2" ? post2() : post1());
  if (Number(response.status) !== 200) {
    throw new Error(`HTTP ${response.status}: ${response.body.toString().slice(0, 200)}`);
  }
  const expected = `Hello, ${name}!`;
  if (protocol === "connect-json") checkConnectJson(response, expected);
  else if (protocol === "grpc-web") checkGrpcWeb(response, expected);
  else throw new Error(`unknown protocol ${protocol}`);
  console.log(`ok ${response.body.length}`);
  process.exit(0);
} catch (error) {
  console.log(`failed: ${protocol} over HTTP/${version}: ${error.message}`);
  process.exit(1);
}
