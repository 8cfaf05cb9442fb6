import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { Status } from "../../core/errors.ts";
import { classifyRequest, type RequestProtocol } from "./protocol.ts";
import {
  compressionHeaders,
  inflateMessage,
  listsGzip,
  negotiateCompression,
  parseWebEncoding,
} from "./web_compression.ts";

function protocolOf(method: string, contentType: string | undefined, query = ""): RequestProtocol {
  const result = classifyRequest(method, contentType, query);
  assert.ok(!("httpStatus" in result));
  return result;
}

const CONNECT = protocolOf("POST", "application/proto");
const STREAM = protocolOf("POST", "application/connect+json");
const WEB = protocolOf("POST", "application/grpc-web-text");
const GET = protocolOf("GET", undefined, "encoding=json");

/** A header reader over plain pairs. */
const headers = (pairs: Record<string, string>) => (name: string) => pairs[name] ?? null;

Deno.test("compressionHeaders() names each protocol's own headers", () => {
  assert.equal(compressionHeaders(CONNECT).encoding, "content-encoding");
  assert.equal(compressionHeaders(GET).accept, "accept-encoding");
  assert.equal(compressionHeaders(STREAM).encoding, "connect-content-encoding");
  assert.equal(compressionHeaders(STREAM).accept, "connect-accept-encoding");
  assert.equal(compressionHeaders(WEB).encoding, "grpc-encoding");
  assert.equal(compressionHeaders(WEB).accept, "grpc-accept-encoding");
});

Deno.test("parseWebEncoding() knows identity, gzip and deflate, in any case", () => {
  assert.equal(parseWebEncoding(undefined), "identity");
  assert.equal(parseWebEncoding(""), "identity");
  assert.equal(parseWebEncoding("GZip"), "gzip");
  assert.equal(parseWebEncoding(" deflate "), "deflate");
  assert.equal(parseWebEncoding("br"), null);
});

Deno.test("listsGzip() reads lists with parameters, and q=0 as a refusal", () => {
  assert.equal(listsGzip(null), false);
  assert.equal(listsGzip("gzip"), true);
  assert.equal(listsGzip("identity, deflate, gzip"), true);
  assert.equal(listsGzip("br;q=1.0, GZIP;q=0.5"), true);
  assert.equal(listsGzip("gzip;q=0"), false);
  assert.equal(listsGzip("identity,deflate"), false);
  assert.equal(listsGzip("x-gzip"), false);
});

Deno.test("negotiateCompression() reads the protocol's headers, or GET's query", () => {
  assert.deepEqual(
    negotiateCompression(
      CONNECT,
      headers({ "content-encoding": "gzip", "accept-encoding": "gzip" }),
      "",
    ),
    { requestEncoding: "gzip", acceptsGzip: true },
  );
  // The gRPC-Web header means nothing to Connect, and the other way round.
  assert.deepEqual(negotiateCompression(CONNECT, headers({ "grpc-encoding": "gzip" }), ""), {
    requestEncoding: "identity",
    acceptsGzip: false,
  });
  assert.deepEqual(
    negotiateCompression(STREAM, headers({ "connect-content-encoding": "deflate" }), ""),
    { requestEncoding: "deflate", acceptsGzip: false },
  );
  assert.deepEqual(negotiateCompression(GET, headers({}), "encoding=json&compression=gzip"), {
    requestEncoding: "gzip",
    acceptsGzip: false,
  });
});

Deno.test("negotiateCompression() refuses an unknown encoding with the accept list", () => {
  const web = negotiateCompression(WEB, headers({ "grpc-encoding": "snappy" }), "");
  assert.ok("refused" in web);
  assert.equal(web.refused.code, Status.UNIMPLEMENTED);
  assert.match(web.refused.message, /"snappy"/);
  assert.deepEqual(web.header, ["grpc-accept-encoding", "identity,deflate,gzip"]);
  const get = negotiateCompression(GET, headers({}), "compression=br");
  assert.ok("refused" in get);
  assert.deepEqual(get.header, ["accept-encoding", "gzip,deflate"]);
});

Deno.test("inflateMessage() stops at the limit: a zip bomb is RESOURCE_EXHAUSTED", () => {
  const bomb = new Uint8Array(gzipSync(new Uint8Array(16 << 20)));
  const result = inflateMessage("gzip", bomb, 1 << 20);
  assert.ok(!(result instanceof Uint8Array));
  assert.equal(result.code, Status.RESOURCE_EXHAUSTED);
  const fits = inflateMessage("gzip", new Uint8Array(gzipSync(new Uint8Array(1 << 20))), 1 << 20);
  assert.ok(fits instanceof Uint8Array && fits.length === 1 << 20);
});

Deno.test("inflateMessage() says INTERNAL for bytes that are not gzip, passes identity and empty", () => {
  const garbage = inflateMessage("gzip", new Uint8Array([1, 2, 3]), 100);
  assert.ok(!(garbage instanceof Uint8Array));
  assert.equal(garbage.code, Status.INTERNAL);
  const bytes = new Uint8Array([1, 2, 3]);
  assert.equal(inflateMessage("identity", bytes, 1), bytes);
  const empty = inflateMessage("gzip", new Uint8Array(0), 1);
  assert.ok(empty instanceof Uint8Array && empty.length === 0);
});
