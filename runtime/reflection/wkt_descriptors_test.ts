import assert from "node:assert/strict";
import { join } from "node:path";
import { normalized, protoc, protocMissing, splitSet } from "./_testing.ts";
import { decodeFileDescriptor } from "./descriptor_types.ts";
import { WELL_KNOWN_FILES, wellKnownDescriptor } from "./wkt_descriptors.ts";

const PYTHON = "/usr/bin/python3";

/** The well-known types' descriptors compiled into Python's protobuf, as a FileDescriptorSet. */
const DUMP = `
import sys
from google.protobuf import descriptor_pb2
from google.protobuf import any_pb2, duration_pb2, empty_pb2, field_mask_pb2, struct_pb2
from google.protobuf import timestamp_pb2, wrappers_pb2
out = descriptor_pb2.FileDescriptorSet()
for m in [any_pb2, duration_pb2, empty_pb2, field_mask_pb2, struct_pb2, timestamp_pb2,
          wrappers_pb2, descriptor_pb2]:
    out.file.add().ParseFromString(m.DESCRIPTOR.serialized_pb)
sys.stdout.buffer.write(out.SerializeToString())
`;

async function pythonProtobufMissing(): Promise<string | null> {
  try {
    const { code } = await new Deno.Command(PYTHON, {
      args: ["-c", "import google.protobuf"],
      stderr: "null",
    }).output();
    return code === 0 ? null : "python3-protobuf is not installed";
  } catch {
    return `${PYTHON} not found`;
  }
}

const missing = (await protocMissing()) ?? (await pythonProtobufMissing());

Deno.test({
  name: "wellKnownDescriptor() equals protoc's descriptor set of Python's well-known types",
  ignore: missing !== null,
  async fn() {
    const dump = await new Deno.Command(PYTHON, { args: ["-c", DUMP], stdout: "piped" }).output();
    assert.equal(dump.code, 0);
    const dir = await Deno.makeTempDir({ prefix: "svc_wkt_" });
    try {
      await Deno.writeFile(join(dir, "in.pb"), dump.stdout);
      await protoc([
        `--descriptor_set_in=${join(dir, "in.pb")}`,
        `--descriptor_set_out=${join(dir, "out.pb")}`,
        "--include_imports",
        ...WELL_KNOWN_FILES,
      ]);
      const theirs = new Map(
        splitSet(await Deno.readFile(join(dir, "out.pb"))).map((b) => [
          decodeFileDescriptor(b).name,
          b,
        ]),
      );
      assert.deepEqual([...theirs.keys()].sort(), [...WELL_KNOWN_FILES].sort());
      for (const name of WELL_KNOWN_FILES) {
        assert.deepEqual(
          normalized(wellKnownDescriptor(name)!),
          normalized(theirs.get(name)!),
          name,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("wellKnownDescriptor() knows the runtime's built-in files and nothing else", () => {
  const timestamp = decodeFileDescriptor(wellKnownDescriptor("google/protobuf/timestamp.proto")!);
  assert.equal(timestamp.package, "google.protobuf");
  assert.deepEqual(timestamp.messageType.map((m) => m.name), ["Timestamp"]);
  assert.equal(wellKnownDescriptor("google/protobuf/api.proto"), undefined);
  assert.equal(WELL_KNOWN_FILES.length, 8);
});
