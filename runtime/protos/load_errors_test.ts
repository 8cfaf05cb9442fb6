import assert from "node:assert/strict";
import { type Issue, UserInputError } from "../core/errors.ts";
import { protoDir, rejection } from "./_testing.ts";
import { loadProtos } from "./load_protos.ts";

async function issuesOf(files: string[], includePaths: string[] = []): Promise<readonly Issue[]> {
  const error = await rejection(() => loadProtos({ files, includePaths }));
  assert.ok(error instanceof UserInputError, `expected UserInputError, got ${error}`);
  assert.match(error.message, /^protos: \d+ problems?\n/);
  return error.issues;
}

Deno.test("loadProtos() reports a syntax error with file and line", async () => {
  await using tmp = await protoDir({
    "bad.proto": `syntax = "proto3";
package bad;

message Broken {
  string name = 1
}
`,
  });
  const issues = await issuesOf([tmp.dir]);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].file, tmp.path("bad.proto"));
  assert.equal(issues[0].line, 6);
  assert.match(issues[0].message, /^syntax error: illegal token '}', ';' expected$/);
});

Deno.test("loadProtos() reports a missing import with the importing file, line and dirs searched", async () => {
  await using tmp = await protoDir({
    "include/other.proto": `syntax = "proto3";`,
    "proto/a.proto": `syntax = "proto3";
// import "commented.proto";
import "nope/missing.proto";
message A {}
`,
  });
  const issues = await issuesOf([tmp.path("proto")], [tmp.path("include")]);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].file, tmp.path("proto/a.proto"));
  assert.equal(issues[0].line, 3);
  assert.equal(
    issues[0].message,
    `import "nope/missing.proto" not found; searched ${tmp.path("proto")}, ${
      tmp.path("include")
    }. ` +
      "Add the directory that holds it to protos.includePaths",
  );
});

Deno.test("loadProtos() reports unknown types naming the file, line and referencing symbol", async () => {
  await using tmp = await protoDir({
    "u.proto": `syntax = "proto3";
package u;
message A {
  foo.Bar bar = 1;
  Missing again = 2;
}
service S {
  rpc M (A) returns (Nope);
}
`,
  });
  const issues = await issuesOf([tmp.path("u.proto")]);
  assert.deepEqual(issues.map((i) => [i.file, i.line, i.where, i.message]), [
    [tmp.path("u.proto"), 4, "u.A.bar", "no such type: foo.Bar (referenced by field u.A.bar)"],
    [tmp.path("u.proto"), 5, "u.A.again", "no such type: Missing (referenced by field u.A.again)"],
    [tmp.path("u.proto"), 8, "u.S.M", "no such type: Nope (referenced by method u.S.M)"],
  ]);
});

Deno.test("loadProtos() reports a type defined in two files", async () => {
  await using tmp = await protoDir({
    "a.proto": `syntax = "proto3";\npackage p;\nmessage Thing {}\n`,
    "b.proto": `syntax = "proto3";\npackage p;\n\nmessage Thing { string x = 1; }\n`,
  });
  const issues = await issuesOf([tmp.dir]);
  assert.deepEqual(issues, [{
    file: tmp.path("b.proto"),
    line: 4,
    where: "p.Thing",
    message: `duplicate definition of p.Thing: already defined in ${tmp.path("a.proto")}`,
  }]);
});

Deno.test("loadProtos() reports duplicate names inside one file", async () => {
  await using tmp = await protoDir({
    "d.proto": `syntax = "proto3";
message M {
  string x = 1;
  string x = 2;
}
`,
  });
  const issues = await issuesOf([tmp.dir]);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].line, 4);
  assert.equal(issues[0].message, `duplicate name "x" in message M`);
});

Deno.test("loadProtos() reports missing paths, missing include paths and directories without protos", async () => {
  await using tmp = await protoDir({ "empty/readme.md": "nothing here" });
  const issues = await issuesOf([tmp.path("gone.proto"), tmp.path("empty")], [tmp.path("nope")]);
  assert.deepEqual(issues, [
    {
      file: tmp.path("gone.proto"),
      message: "configured proto path does not exist; check protos.files in the config",
    },
    {
      file: tmp.path("empty"),
      message: "no .proto files found in this directory (searched recursively)",
    },
    {
      file: tmp.path("nope"),
      message: "include path does not exist; check protos.includePaths in the config",
    },
  ]);
});

Deno.test("loadProtos() reports every problem at once without follow-on errors", async () => {
  await using tmp = await protoDir({
    "broken.proto": `syntax = "proto3";\npackage x;\nmessage Base { string a = 1 }\n`,
    "user.proto":
      `syntax = "proto3";\npackage y;\nimport "broken.proto";\nmessage U { x.Base b = 1; }\n`,
    "other.proto": `syntax = "proto3";\npackage z;\nmessage O { Unknown u = 1; }\n`,
  });
  const issues = await issuesOf([tmp.dir]);
  assert.deepEqual(issues.map((i) => `${i.file.slice(tmp.dir.length + 1)}:${i.line}`), [
    "broken.proto:3",
    "other.proto:3",
  ]);
});

Deno.test("UserInputError from loadProtos() formats one line per problem", async () => {
  await using tmp = await protoDir({ "u.proto": `syntax = "proto3";\nmessage A { B b = 1; }\n` });
  const error = await rejection(() => loadProtos({ files: [tmp.dir], includePaths: [] }));
  assert.ok(error instanceof UserInputError);
  assert.equal(
    error.message,
    `protos: 1 problem\n${tmp.path("u.proto")}:2: A.b: no such type: B (referenced by field A.b)`,
  );
});
