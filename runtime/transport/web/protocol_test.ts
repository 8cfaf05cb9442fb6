import assert from "node:assert/strict";
import {
  allowedMethods,
  checkCallKind,
  checkConnectVersion,
  classifyRequest,
  queryParam,
  type RequestProtocol,
} from "./protocol.ts";

function classified(method: string, contentType: string | undefined, query = ""): RequestProtocol {
  const result = classifyRequest(method, contentType, query);
  assert.ok(!("httpStatus" in result), `${contentType}: ${JSON.stringify(result)}`);
  return result;
}

Deno.test("classifyRequest() tells each protocol and codec from the content-type", () => {
  const cases: [string, string, string, string][] = [
    ["application/grpc", "grpc", "proto", "application/grpc"],
    ["application/grpc+proto", "grpc", "proto", "application/grpc"],
    ["application/grpc+json", "grpc", "json", "application/grpc+json"],
    ["application/grpc-web", "grpc-web", "proto", "application/grpc-web+proto"],
    ["application/grpc-web+proto", "grpc-web", "proto", "application/grpc-web+proto"],
    ["application/grpc-web+json", "grpc-web", "json", "application/grpc-web+json"],
    ["application/grpc-web-text", "grpc-web-text", "proto", "application/grpc-web-text+proto"],
    [
      "application/grpc-web-text+proto",
      "grpc-web-text",
      "proto",
      "application/grpc-web-text+proto",
    ],
    ["application/proto", "connect", "proto", "application/proto"],
    ["application/json", "connect", "json", "application/json"],
    ["application/connect+proto", "connect-stream", "proto", "application/connect+proto"],
    ["application/connect+json", "connect-stream", "json", "application/connect+json"],
  ];
  for (const [contentType, protocol, codec, response] of cases) {
    const result = classified("POST", contentType);
    assert.deepEqual(
      [result.protocol, result.codec, result.responseContentType, result.get],
      [protocol, codec, response, false],
      contentType,
    );
  }
});

Deno.test("classifyRequest() ignores case and a UTF-8 charset, refuses another charset", () => {
  assert.equal(classified("POST", "Application/JSON; charset=utf-8").protocol, "connect");
  assert.equal(classified("POST", "application/json;charset=UTF8").codec, "json");
  assert.equal(classified("POST", "application/grpc-web+proto; foo=bar").protocol, "grpc-web");
  const latin1 = classifyRequest("POST", "application/json; charset=iso-8859-1", "");
  assert.deepEqual(latin1, {
    httpStatus: 415,
    reason: 'Unsupported content-type "application/json; charset=iso-8859-1"',
  });
});

Deno.test("classifyRequest() answers 415 for unknown or missing content-types (Connect spec)", () => {
  for (const contentType of ["text/plain", "application/xml", "application/connect", ""]) {
    const result = classifyRequest("POST", contentType, "");
    assert.ok("httpStatus" in result && result.httpStatus === 415, contentType);
  }
  assert.deepEqual(classifyRequest("POST", undefined, ""), {
    httpStatus: 415,
    reason: "Missing content-type",
  });
});

Deno.test("classifyRequest() allocates no answer for common content-types", () => {
  assert.equal(classified("POST", "application/grpc"), classified("POST", "application/grpc"));
});

Deno.test("classifyRequest() takes a Connect GET's codec from the encoding parameter", () => {
  // The spec's GET example.
  const get = classified("GET", undefined, "message=%7B%22name%22%3A%22Buf%22%7D&encoding=json");
  assert.deepEqual([get.protocol, get.codec, get.get], ["connect", "json", true]);
  assert.equal(classified("GET", undefined, "encoding=proto&base64=1").codec, "proto");
  const missing = classifyRequest("GET", undefined, "message=x");
  assert.ok("httpStatus" in missing && missing.httpStatus === 415);
  const unknown = classifyRequest("GET", undefined, "encoding=thrift");
  assert.ok("httpStatus" in unknown && unknown.httpStatus === 415);
});

Deno.test("classifyRequest() answers 405 for methods other than POST and GET", () => {
  const result = classifyRequest("PUT", "application/json", "");
  assert.deepEqual(result, { httpStatus: 405, reason: "Method PUT not allowed" });
});

Deno.test("checkCallKind() keeps Connect unary content-types to unary methods and back", () => {
  const unary = classified("POST", "application/proto");
  const stream = classified("POST", "application/connect+proto");
  assert.equal(checkCallKind(unary, "unary", false), null);
  assert.equal(checkCallKind(unary, "server_stream", false)?.httpStatus, 415);
  assert.equal(checkCallKind(stream, "bidi_stream", false), null);
  assert.equal(checkCallKind(stream, "unary", false)?.httpStatus, 415);
  const web = classified("POST", "application/grpc-web");
  assert.equal(checkCallKind(web, "unary", false), null);
  assert.equal(checkCallKind(web, "client_stream", false), null);
});

Deno.test("checkCallKind() allows GET only for side-effect-free unary methods", () => {
  const get = classified("GET", undefined, "encoding=json");
  assert.equal(checkCallKind(get, "unary", true), null);
  assert.equal(checkCallKind(get, "unary", false)?.httpStatus, 405);
  assert.equal(checkCallKind(get, "server_stream", true)?.httpStatus, 405);
});

Deno.test("allowedMethods() lists GET only where Connect GET is allowed", () => {
  assert.deepEqual(allowedMethods("unary", true), ["GET", "POST"]);
  assert.deepEqual(allowedMethods("unary", false), ["POST"]);
  assert.deepEqual(allowedMethods("server_stream", true), ["POST"]);
  assert.deepEqual(allowedMethods("bidi_stream", false), ["POST"]);
});

Deno.test("checkConnectVersion() is lenient about absence unless required, strict about values", () => {
  assert.equal(checkConnectVersion(undefined, false), null);
  assert.equal(checkConnectVersion("1", true), null);
  assert.equal(
    checkConnectVersion(undefined, true),
    'Missing connect-protocol-version: set it to "1"',
  );
  assert.equal(checkConnectVersion("2", false), 'connect-protocol-version must be "1": got "2"');
  assert.equal(checkConnectVersion("v1", true, true), null);
  assert.equal(checkConnectVersion("1", false, true), 'connect must be "v1": got "1"');
});

Deno.test("queryParam() finds parameters in any order and percent-decodes them", () => {
  const query = "connect=v1&encoding=json&message=%7B%22a%22%3A1%7D&flag&x=a+b";
  assert.equal(queryParam(query, "message"), '{"a":1}');
  assert.equal(queryParam(query, "connect"), "v1");
  assert.equal(queryParam(query, "flag"), "");
  assert.equal(queryParam(query, "x"), "a b");
  assert.equal(queryParam(query, "missing"), undefined);
  assert.equal(queryParam("encodings=proto", "encoding"), undefined);
  assert.equal(queryParam("message=%E0%A4%A", "message"), undefined);
  assert.equal(queryParam("", "message"), undefined);
});
