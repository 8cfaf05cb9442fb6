import assert from "node:assert/strict";
import { Metadata } from "../../core/metadata.ts";
import type { HeaderField } from "../native/hpack/mod.ts";
import {
  appendConnectUnaryMetadata,
  connectMetadataRecord,
  connectRequestMetadata,
  metadataFromConnectRecord,
  parseConnectTimeout,
} from "./connect_headers.ts";
import { STATUS_DETAILS_KEY } from "./status_details.ts";

Deno.test("parseConnectTimeout() takes 1 to 10 digits and nothing else", () => {
  assert.equal(parseConnectTimeout("5000"), 5000); // the spec's example
  assert.equal(parseConnectTimeout("0"), 0);
  assert.equal(parseConnectTimeout("9999999999"), 9_999_999_999);
  assert.equal(parseConnectTimeout("10000000000"), null);
  for (const bad of ["", "-1", "1.5", "1h", " 1", "1e3", "+5"]) {
    assert.equal(parseConnectTimeout(bad), null, bad);
  }
});

Deno.test("connectRequestMetadata() keeps custom headers, drops protocol ones, decodes -bin", () => {
  const fields: HeaderField[] = [
    [":path", "/connectrpc.greet.v1.GreetService/Greet"],
    ["content-type", "application/json"],
    ["content-length", "15"],
    ["accept-encoding", "gzip, br"],
    ["connect-timeout-ms", "5000"],
    ["connect-protocol-version", "1"],
    ["host", "demo.connectrpc.com"],
    ["acme-shard-id", "42"],
    ["acme-id-bin", "AQID, BAU="],
    ["x-name", "J\xc3\xbcrgen"], // UTF-8 bytes, one char per byte
  ];
  const md = connectRequestMetadata(fields);
  assert.deepEqual([...md.entries()].map(([k]) => k), ["acme-shard-id", "acme-id-bin", "x-name"]);
  assert.equal(md.get("acme-shard-id"), "42");
  assert.deepEqual(md.getAll("acme-id-bin"), [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])]);
  assert.equal(md.get("x-name"), "Jürgen");
});

Deno.test("appendConnectUnaryMetadata() prefixes trailers with trailer- and drops reserved keys", () => {
  const fields: HeaderField[] = [["content-type", "application/json"]];
  appendConnectUnaryMetadata(
    fields,
    Metadata.from({ "x-region": "eu", "connect-x": "no", "content-type": "text/plain" }),
    Metadata.from({
      "acme-operation-cost": "237",
      "cost-bin": new Uint8Array([0xff]),
      [STATUS_DETAILS_KEY]: new Uint8Array([8, 5]),
      "grpc-status": "0",
    }),
  );
  assert.deepEqual(fields, [
    ["content-type", "application/json"],
    ["x-region", "eu"],
    ["trailer-acme-operation-cost", "237"], // the spec's example
    ["trailer-cost-bin", "/w"],
  ]);
});

Deno.test("connectMetadataRecord() and metadataFromConnectRecord() round-trip, null when empty", () => {
  const md = Metadata.from({
    "acme-operation-cost": ["237", "12"],
    "x-id-bin": new Uint8Array([1, 2, 3]),
    "x-ü": "ä",
  });
  const record = connectMetadataRecord(md);
  assert.deepEqual(record, {
    "acme-operation-cost": ["237", "12"],
    "x-id-bin": ["AQID"],
    "x-ü": ["ä"],
  });
  const back = metadataFromConnectRecord(JSON.parse(JSON.stringify(record)));
  assert.deepEqual(back?.toJSON(), md.toJSON());
  assert.equal(connectMetadataRecord(null), null);
  assert.equal(connectMetadataRecord(Metadata.from({ "grpc-status": "0" })), null);
  assert.equal(metadataFromConnectRecord({ a: "not an array" }), null);
  assert.equal(metadataFromConnectRecord({ a: [1] }), null);
  assert.equal(metadataFromConnectRecord([]), null);
});
