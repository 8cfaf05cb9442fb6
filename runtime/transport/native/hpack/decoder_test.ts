import assert from "node:assert/strict";
import { type HeaderField, HpackDecoder } from "./decoder.ts";
import { HpackEncoder } from "./encoder.ts";
import { HpackError } from "./errors.ts";
import { hex } from "./_testing.ts";

const LIMITS = { maxTableSize: 4096, maxHeaderListSize: 16384 };

function decodeAll(decoder: HpackDecoder, bytes: Uint8Array): HeaderField[] {
  const result = decoder.decode(bytes, 0, bytes.length);
  assert.equal(result.oversized, false);
  return result.fields;
}

interface Step {
  dump: string;
  fields: HeaderField[];
  /** Dynamic table after the block, newest first. */
  table: HeaderField[];
  size: number;
}

function runSequence(decoder: HpackDecoder, steps: Step[]): void {
  for (const step of steps) {
    assert.deepEqual(decodeAll(decoder, hex(step.dump)), step.fields);
    assert.deepEqual(decoder.dynamicTableEntries(), step.table);
    assert.equal(decoder.dynamicTableSize, step.size);
  }
}

Deno.test("decoder: RFC 7541 C.2.1 literal with indexing", () => {
  const d = new HpackDecoder(LIMITS);
  runSequence(d, [{
    dump: "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
    fields: [["custom-key", "custom-header"]],
    table: [["custom-key", "custom-header"]],
    size: 55,
  }]);
});

Deno.test("decoder: RFC 7541 C.2.2 literal without indexing", () => {
  const d = new HpackDecoder(LIMITS);
  runSequence(d, [{
    dump: "040c 2f73 616d 706c 652f 7061 7468",
    fields: [[":path", "/sample/path"]],
    table: [],
    size: 0,
  }]);
});

Deno.test("decoder: RFC 7541 C.2.3 literal never indexed", () => {
  const d = new HpackDecoder(LIMITS);
  runSequence(d, [{
    dump: "1008 7061 7373 776f 7264 0673 6563 7265 74",
    fields: [["password", "secret"]],
    table: [],
    size: 0,
  }]);
});

Deno.test("decoder: RFC 7541 C.2.4 indexed field", () => {
  const d = new HpackDecoder(LIMITS);
  runSequence(d, [{ dump: "82", fields: [[":method", "GET"]], table: [], size: 0 }]);
});

const REQUEST_1: HeaderField[] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
];
const REQUEST_2: HeaderField[] = [...REQUEST_1, ["cache-control", "no-cache"]];
const REQUEST_3: HeaderField[] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  [":authority", "www.example.com"],
  ["custom-key", "custom-value"],
];
const REQUEST_TABLES: { table: HeaderField[]; size: number }[] = [
  { table: [[":authority", "www.example.com"]], size: 57 },
  { table: [["cache-control", "no-cache"], [":authority", "www.example.com"]], size: 110 },
  {
    table: [
      ["custom-key", "custom-value"],
      ["cache-control", "no-cache"],
      [":authority", "www.example.com"],
    ],
    size: 164,
  },
];

Deno.test("decoder: RFC 7541 C.3 requests without Huffman share one table", () => {
  const dumps = [
    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "8286 84be 5808 6e6f 2d63 6163 6865",
    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
  ];
  const fields = [REQUEST_1, REQUEST_2, REQUEST_3];
  runSequence(
    new HpackDecoder(LIMITS),
    dumps.map((dump, i) => ({ dump, fields: fields[i], ...REQUEST_TABLES[i] })),
  );
});

Deno.test("decoder: RFC 7541 C.4 requests with Huffman share one table", () => {
  const dumps = [
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
  ];
  const fields = [REQUEST_1, REQUEST_2, REQUEST_3];
  runSequence(
    new HpackDecoder(LIMITS),
    dumps.map((dump, i) => ({ dump, fields: fields[i], ...REQUEST_TABLES[i] })),
  );
});

const DATE_1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE_2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION = "https://www.example.com";
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RESPONSES: { fields: HeaderField[]; table: HeaderField[]; size: number }[] = [
  {
    fields: [
      [":status", "302"],
      ["cache-control", "private"],
      ["date", DATE_1],
      ["location", LOCATION],
    ],
    table: [
      ["location", LOCATION],
      ["date", DATE_1],
      ["cache-control", "private"],
      [":status", "302"],
    ],
    size: 222,
  },
  {
    fields: [
      [":status", "307"],
      ["cache-control", "private"],
      ["date", DATE_1],
      ["location", LOCATION],
    ],
    table: [
      [":status", "307"],
      ["location", LOCATION],
      ["date", DATE_1],
      ["cache-control", "private"],
    ],
    size: 222,
  },
  {
    fields: [
      [":status", "200"],
      ["cache-control", "private"],
      ["date", DATE_2],
      ["location", LOCATION],
      ["content-encoding", "gzip"],
      ["set-cookie", COOKIE],
    ],
    table: [
      ["set-cookie", COOKIE],
      ["content-encoding", "gzip"],
      ["date", DATE_2],
    ],
    size: 215,
  },
];

Deno.test("decoder: RFC 7541 C.5 responses without Huffman evict from a 256-byte table", () => {
  const dumps = [
    "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a " +
    "3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "4803 3330 37c1 c0bf",
    "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 " +
    "677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 " +
    "553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
  ];
  runSequence(
    new HpackDecoder({ maxTableSize: 256, maxHeaderListSize: 16384 }),
    dumps.map((dump, i) => ({ dump, ...RESPONSES[i] })),
  );
});

Deno.test("decoder: RFC 7541 C.6 responses with Huffman evict from a 256-byte table", () => {
  const dumps = [
    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e " +
    "919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
    "4883 640e ffc1 c0bf",
    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 " +
    "821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed " +
    "4ee5 b106 3d50 07",
  ];
  runSequence(
    new HpackDecoder({ maxTableSize: 256, maxHeaderListSize: 16384 }),
    dumps.map((dump, i) => ({ dump, ...RESPONSES[i] })),
  );
});

Deno.test("decoder: decodes only bytes[start, end) of a larger buffer", () => {
  const block = hex("ff ff 82 84 ff");
  const d = new HpackDecoder(LIMITS);
  assert.deepEqual(d.decode(block, 2, 4).fields, [[":method", "GET"], [":path", "/"]]);
  // An empty block is valid and empty.
  assert.deepEqual(d.decode(block, 1, 1), { fields: [], oversized: false, size: 0 });
});

Deno.test("decoder: latin1 bytes map one-to-one onto chars", () => {
  // Literal without indexing, new name "x", value bytes 0x80 0xff 0x00.
  const d = new HpackDecoder(LIMITS);
  assert.deepEqual(decodeAll(d, hex("0001 7803 80ff 00")), [["x", "\x80\xff\x00"]]);
});

Deno.test("decoder: long literals are built whole", () => {
  const value = "v".repeat(20000);
  const block = new HpackEncoder().encode([["x-long", value]]);
  const d = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 20 });
  assert.deepEqual(decodeAll(d, block), [["x-long", value]]);
});

Deno.test("decoder: size updates at the block start are applied and may repeat", () => {
  const d = new HpackDecoder(LIMITS);
  decodeAll(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
  assert.equal(d.dynamicTableSize, 55);
  // Size 0 (evicts everything), then 4096 (3fe1 1f), then the static entry 2.
  assert.deepEqual(decodeAll(d, hex("20 3fe1 1f 82")), [[":method", "GET"]]);
  assert.equal(d.dynamicTableSize, 0);
  assert.equal(d.dynamicTableCapacity, 4096);
  assert.throws(() => d.decode(hex("be"), 0, 1), HpackError);
});

Deno.test("decoder: an entry larger than the table empties it", () => {
  const d = new HpackDecoder({ maxTableSize: 64, maxHeaderListSize: 16384 });
  decodeAll(d, hex("4001 6101 62")); // a: b, 34 bytes
  assert.equal(d.dynamicTableSize, 34);
  // name "n", value of 40 'v': 73 bytes > 64
  const block = new Uint8Array([0x40, 0x01, 0x6e, 40, ...new Uint8Array(40).fill(0x76)]);
  assert.deepEqual(decodeAll(d, block), [["n", "v".repeat(40)]]);
  assert.deepEqual(d.dynamicTableEntries(), []);
  assert.equal(d.dynamicTableSize, 0);
});

const MALFORMED: [string, string][] = [
  ["truncated integer (prefix full, no continuation)", "ff"],
  ["truncated integer (continuation bit on last byte)", "ff 80"],
  ["integer above 2^31-1", "ff ff ff ff ff 0f"],
  ["integer with too many continuation bytes", "ff 80 80 80 80 80 00"],
  ["indexed field with index 0", "80"],
  ["indexed field past the static table", "be"],
  ["indexed field far out of range", "ff 80 01"],
  ["literal name index out of range", "7e 01 61"],
  ["never-indexed name index out of range", "1f 2f 01 61"],
  ["truncated string length", "40"],
  ["missing value string", "40 01 61"],
  ["string longer than the block", "40 05 61"],
  ["string length near 2^31 with no data", "00 01 61 7f ff ff ff ff 07"],
  ["Huffman string containing EOS", "00 01 61 84 ff ff ff ff"],
  ["Huffman padding longer than 7 bits", "00 01 61 82 07 ff"],
  ["Huffman padding not all ones", "00 01 61 81 00"],
  ["size update above SETTINGS_HEADER_TABLE_SIZE", "3f e2 1f"],
  ["size update after a field", "82 20"],
  ["truncated size update", "3f"],
];

for (const [name, dump] of MALFORMED) {
  Deno.test(`decoder: rejects ${name}`, () => {
    const bytes = hex(dump);
    const d = new HpackDecoder(LIMITS);
    assert.throws(() => d.decode(bytes, 0, bytes.length), HpackError);
  });
}

Deno.test("decoder: rejects an out-of-bounds range with HpackError", () => {
  const d = new HpackDecoder(LIMITS);
  const bytes = hex("82");
  assert.throws(() => d.decode(bytes, 0, 2), HpackError);
  assert.throws(() => d.decode(bytes, 1, 0), HpackError);
  assert.throws(() => d.decode(bytes, -1, 1), HpackError);
});

Deno.test("decoder: oversized list keeps the table in sync", () => {
  const d = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 200 });
  const e = new HpackEncoder();
  const big: HeaderField[] = [
    ["x-a", "1".repeat(40)],
    ["x-b", "2".repeat(40)],
    ["x-c", "3".repeat(40)],
    ["grpc-message", "m".repeat(100)], // literal without indexing: skipped, still counted
  ];
  const first = e.encode(big);
  const result = d.decode(first, 0, first.length);
  assert.equal(result.oversized, true);
  assert.deepEqual(result.fields, []);
  assert.equal(result.size, 3 * (3 + 40 + 32) + (12 + 100 + 32));
  assert.equal(d.dynamicTableEntries().length, 3);

  // The next block refers to the entries inserted by the oversized one.
  const second = e.encode(big.slice(0, 2));
  assert.equal(second.length, 2);
  assert.deepEqual(decodeAll(d, second), big.slice(0, 2));
});

Deno.test("decoder: a repeated gRPC request decodes from the table alone", () => {
  const request: HeaderField[] = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/pkg.Svc/Method"],
    [":authority", "localhost:50051"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ["user-agent", "grpc-python/1.51"],
    ["grpc-accept-encoding", "identity,deflate,gzip"],
    ["grpc-timeout", "1S"],
  ];
  const e = new HpackEncoder();
  const d = new HpackDecoder(LIMITS);
  assert.deepEqual(decodeAll(d, e.encode(request)), request);
  // Second time every field is a one-byte indexed representation, so the decoder returns the
  // strings held by its table instead of building new ones.
  const again = e.encode(request);
  assert.equal(again.length, request.length);
  assert.deepEqual(decodeAll(d, again), request);
});
