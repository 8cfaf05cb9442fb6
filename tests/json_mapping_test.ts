/**
 * svc's canonical JSON mapping (runtime/protos/json_codec.ts) against the
 * reference: Python's google.protobuf.json_format, given a descriptor set
 * protoc compiled from tests/fixtures/json_mapping. Every corpus input goes
 * through both; JSON output is compared as parsed values, binary output as
 * messages Python decodes and compares.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type protobuf from "protobufjs";
import { loadProtos } from "../runtime/protos/mod.ts";
import { binaryToJson, JsonMappingError, jsonToBinary } from "../runtime/protos/json_codec.ts";
import { INVALID, type JsonCase, VALID } from "./fixtures/json_mapping/corpus.ts";
import { ROOT } from "./_harness.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";

const FIXTURES = join(ROOT, "tests/fixtures/json_mapping");

async function _referenceMissing(): Promise<string | null> {
  if (await pythonGrpcMissing() === "/usr/bin/python3 not found") return "no /usr/bin/python3";
  const probe = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", "import google.protobuf.json_format"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (!probe?.success) return "python3-protobuf is not installed";
  const protoc = await new Deno.Command("protoc", { args: ["--version"], stdout: "null" })
    .output().catch(() => null);
  return protoc?.success ? null : "protoc is not installed";
}

const missing = await _referenceMissing();

/** Runs json_reference.py over `ops` (one object a line), in a scratch directory. */
async function _reference(dir: string, ops: Record<string, unknown>[]) {
  const file = join(dir, `ops_${crypto.randomUUID()}.jsonl`);
  await Deno.writeTextFile(file, ops.map((op) => JSON.stringify(op)).join("\n"));
  const out = await runPython("json_reference.py", [join(dir, "set.pb"), file], 60_000);
  assert.equal(out.length, ops.length, "json_reference.py answered every op");
  return out;
}

/**
 * `value` with float fields' numbers rounded to float32: Python writes a
 * float with at least 6 significant digits (9.99995e-41), svc the shortest
 * that reads back (1e-40, as Go does); both denote the same float.
 */
function _float32s(value: unknown, key = ""): unknown {
  if (typeof value === "number" && FLOAT_FIELDS.has(key)) return Math.fround(value);
  if (Array.isArray(value)) return value.map((v) => _float32s(v, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, _float32s(v, k)]));
  }
  return value;
}
const FLOAT_FIELDS = new Set(["fFloat", "wFloat"]);

function _sameJson(a: string, b: string): boolean {
  try {
    assert.deepEqual(JSON.parse(a), JSON.parse(b));
    return true;
  } catch {
    return false;
  }
}

const _b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const _unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function _setup(): Promise<{ dir: string; root: protobuf.Root }> {
  const dir = await Deno.makeTempDir({ prefix: "json_mapping_" });
  const protoc = await new Deno.Command("protoc", {
    args: [
      "--include_imports",
      `--descriptor_set_out=${join(dir, "set.pb")}`,
      `-I${FIXTURES}`,
      "mapping.proto",
      "legacy.proto",
    ],
  }).output();
  assert.ok(protoc.success, new TextDecoder().decode(protoc.stderr));
  const protos = await loadProtos({ files: [FIXTURES], includePaths: [] });
  return { dir, root: protos.root };
}

Deno.test({
  name: "jsonToBinary() and binaryToJson() agree with Python's json_format on the corpus",
  ignore: missing !== null,
  async fn() {
    const { dir, root } = await _setup();
    try {
      const parsed = await _reference(
        dir,
        VALID.map((c) => ({
          op: "parse",
          type: c.type,
          json: c.json,
          ignore: !!c.ignoreUnknownFields,
        })),
      );
      const pairs: Record<string, unknown>[] = [];
      VALID.forEach((c, i) => {
        const ref = parsed[i];
        assert.equal(ref.ok, true, `${c.name}: Python refused it: ${ref.error}`);
        const type = root.lookupType(c.type);
        // Output: Python's bytes through binaryToJson, compared with Python's JSON.
        const mineJson = binaryToJson(type, _unb64(ref.binary as string));
        assert.deepEqual(
          _float32s(JSON.parse(mineJson)),
          _float32s(JSON.parse(ref.json as string)),
          `${c.name}: output`,
        );
        // Input: our bytes, checked by Python against its own parse below.
        const mine = jsonToBinary(type, c.json, { ignoreUnknownFields: c.ignoreUnknownFields });
        pairs.push({ op: "equal", type: c.type, a: _b64(mine), b: ref.binary, name: c.name });
        // And our own output reads back to the same bytes' meaning.
        const again = jsonToBinary(type, mineJson);
        pairs.push({ op: "equal", type: c.type, a: _b64(again), b: ref.binary, name: c.name });
      });
      const compared = await _reference(dir, pairs);
      compared.forEach((r, i) => {
        // NaN != NaN, so a message holding one never equals itself; then
        // Python's JSON of both must match.
        const same = r.equal === true ||
          (String(r.a).includes("NaN") && _sameJson(String(r.a), String(r.b)));
        assert.ok(
          same,
          `${pairs[i].name}: messages differ: svc ${r.a} vs Python ${r.b} ${r.error ?? ""}`,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "jsonToBinary() refuses what Python refuses, naming the field path",
  ignore: missing !== null,
  async fn() {
    const { dir, root } = await _setup();
    try {
      const parsed = await _reference(
        dir,
        INVALID.map((c) => ({ op: "parse", type: c.type, json: c.json })),
      );
      INVALID.forEach((c: JsonCase, i) => {
        assert.equal(parsed[i].ok, false, `${c.name}: Python accepted it`);
        const type = root.lookupType(c.type);
        assert.throws(
          () => jsonToBinary(type, c.json),
          (error: unknown) => {
            assert.ok(error instanceof JsonMappingError, `${c.name}: ${error}`);
            assert.equal(error.path, c.error, `${c.name}: ${error.message}`);
            return true;
          },
          c.name,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "binaryToJson() matches Python on bytes JSON input cannot produce",
  ignore: missing !== null,
  async fn() {
    const { dir, root } = await _setup();
    try {
      const cases: { type: string; bytes: number[]; name: string }[] = [
        // fInt32 = 0 and fString = "" written explicitly on the wire: still left out.
        {
          name: "explicit implicit defaults",
          type: "jsonmap.Scalars",
          bytes: [0x18, 0x00, 0x72, 0x00],
        },
        // An unknown field (number 99, varint 1) is dropped.
        { name: "unknown field", type: "jsonmap.Scalars", bytes: [0x98, 0x06, 0x01, 0x18, 0x05] },
        // color = 9, not a value of Color: written as the number.
        { name: "unknown enum number", type: "jsonmap.Scalars", bytes: [0x80, 0x01, 0x09] },
        // Value with no kind set.
        { name: "empty value", type: "jsonmap.Wkts", bytes: [0x6a, 0x00] },
        // Any with no type and no value.
        { name: "empty any", type: "jsonmap.Wkts", bytes: [0x8a, 0x01, 0x00] },
      ];
      const ref = await _reference(
        dir,
        cases.map((c) => ({ op: "print", type: c.type, binary: _b64(new Uint8Array(c.bytes)) })),
      );
      cases.forEach((c, i) => {
        assert.equal(ref[i].ok, true, `${c.name}: ${ref[i].error}`);
        const mine = binaryToJson(root.lookupType(c.type), new Uint8Array(c.bytes));
        assert.deepEqual(JSON.parse(mine), JSON.parse(ref[i].json as string), c.name);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
