import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { KITCHEN_PROTO, protoDir } from "./_testing.ts";
import { loadProtos } from "./load_protos.ts";
import { readUtf8 } from "./strict_reader.ts";

Deno.test("readUtf8() reads ASCII, multi-byte text and long strings", () => {
  const encode = (s: string) => new TextEncoder().encode(s);
  assert.equal(readUtf8(encode("")), "");
  assert.equal(readUtf8(encode("hello")), "hello");
  assert.equal(readUtf8(encode("héllo, 世界 🎉")), "héllo, 世界 🎉");
  const long = "x".repeat(10_000) + "y".repeat(5);
  assert.equal(readUtf8(encode(long)), long);
});

Deno.test("readUtf8() rejects invalid UTF-8, as protobuf-go does", () => {
  for (const bad of [[0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80], [0x41, 0xe2, 0x82]]) {
    assert.throws(() => readUtf8(new Uint8Array(bad)), /string field contains invalid UTF-8/);
  }
});

Deno.test("decodeRequest() fails on a truncated string and invalid UTF-8, from a Buffer too", async () => {
  await using tmp = await protoDir({ "kitchen.proto": KITCHEN_PROTO });
  const protos = await loadProtos({ files: [tmp.dir], includePaths: [] });
  const method = protos.services.get("kitchen.v1.Kitchen")!.methods[0];
  // Field 1 (text): length 5, 1 byte present; then length 2, not UTF-8.
  for (const bytes of [[0x0a, 0x05, 0x41], [0x0a, 0x02, 0xff, 0xfe]]) {
    // Sockets hand the transports Node Buffers; protobufjs's Buffer reader clamped the first.
    for (const input of [new Uint8Array(bytes), Buffer.from(bytes)]) {
      assert.throws(() => method.decodeRequest(input), `${input.constructor.name} ${bytes}`);
    }
  }
  const ok = method.decodeRequest(Buffer.from([0x0a, 0x02, 0xc3, 0xa9])) as { text: string };
  assert.equal(ok.text, "é");
});
