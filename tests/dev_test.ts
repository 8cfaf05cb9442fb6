/**
 * `svc dev` and SIGHUP on `svc run`, as real processes on a copy of
 * tests/fixtures/dev, checked with grpc-js (and Python grpcio for
 * reflection): edits are served without a new listener, bad edits keep the
 * last good set, config keys that need one restart the server in-process.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, grpcClient, type GrpcTestClient, unary } from "./_harness.ts";
import { copyDevFixture, type DevFixture, rssBytes, startDev, until } from "./_dev.ts";
import { pythonGrpcMissing, runPython } from "./_python.ts";
import type { ServerProcess } from "./_spawn.ts";

const HEALTH_PROTO = "/usr/share/grpc-proto/grpc/health/v1/health.proto";
const UNIMPLEMENTED = 12;
const NOT_FOUND = 5;

/** A grpc-js client for `service` from the fixture copy's current protos. */
function clientFor(fixture: DevFixture, service: string, port: number): GrpcTestClient {
  return grpcClient([join(fixture.dir, "proto/dev.proto")]).makeClient(service, port);
}

/** The text Echo.Say answers, or the error's code. */
async function say(client: GrpcTestClient, text: string): Promise<string | number> {
  try {
    return (await unary<{ text: string }>(client, "say", { text }, { timeoutMs: 3_000 })).text;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

/** Lines with `msg` among the process's JSON logs. */
function linesWith(svc: ServerProcess, msg: string): Record<string, unknown>[] {
  return svc.logs().filter((l) => l.msg === msg);
}

Deno.test("svc dev serves an edited handler within a second; a stream already running finishes on the old one", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir);
  const client = clientFor(fixture, "dev.Echo", svc.port);
  try {
    assert.equal(await say(client, "a"), "v1:a");
    const stream = client.count({ n: 6, intervalMs: 150 });
    const replies: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", (m: { text: string }) => replies.push(m.text));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    await until(() => replies.length > 0, "the first streamed reply");
    const source = await fixture.read("handlers/echo.ts");
    const edited = Date.now();
    await fixture.write("handlers/echo.ts", source.replace('"v1"', '"v2"'));
    await until(async () => await say(client, "a") === "v2:a", "the edited reply", 5_000);
    // The issue asks for 1 s; the bound is generous for a loaded CI machine.
    assert.ok(Date.now() - edited < 5_000);
    await done;
    assert.deepEqual(replies, ["v1:0", "v1:1", "v1:2", "v1:3", "v1:4", "v1:5"]);
    const [line] = linesWith(svc, "reloaded");
    assert.match(String(line.changed), /handlers\/echo\.ts/);
    assert.equal(typeof line.ms, "number");
  } finally {
    client.close();
  }
});

Deno.test("svc dev serves a handler file added and answers UNIMPLEMENTED once it is deleted", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir);
  const other = clientFor(fixture, "dev.Other", svc.port);
  const health = grpcClient([HEALTH_PROTO]).makeClient("grpc.health.v1.Health", svc.port);
  const ping = async () => {
    try {
      return (await unary<{ text: string }>(other, "ping", { text: "p" })).text;
    } catch (error) {
      return (error as { code: number }).code;
    }
  };
  const check = async () => {
    try {
      return (await unary<{ status: string }>(health, "check", { service: "dev.Other" })).status;
    } catch (error) {
      return (error as { code: number }).code;
    }
  };
  try {
    assert.equal(await ping(), UNIMPLEMENTED);
    await fixture.write(
      "handlers/other.ts",
      `import { defineService } from "svc";
export default defineService("dev.Other", { ping: (req: { text: string }) => ({ text: "pong:" + req.text }) });
`,
    );
    await until(async () => await ping() === "pong:p", "the added handler's reply");
    assert.equal(await check(), "SERVING");
    assert.match(String(linesWith(svc, "reloaded").at(-1)?.added), /\/dev\.Other\/Ping/);

    await fixture.remove("handlers/other.ts");
    await until(async () => await ping() === UNIMPLEMENTED, "UNIMPLEMENTED after the delete");
    assert.equal(await check(), NOT_FOUND);
    assert.match(String(linesWith(svc, "reloaded").at(-1)?.removed), /\/dev\.Other\/Ping/);
  } finally {
    other.close();
    health.close();
  }
});

Deno.test("svc dev prints a broken handler's problem, keeps the last good one, then serves the fix", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir);
  const client = clientFor(fixture, "dev.Echo", svc.port);
  try {
    const source = await fixture.read("handlers/echo.ts");
    await fixture.write("handlers/echo.ts", source.replace("say(req", "say(req,,"));
    await until(
      () => linesWith(svc, "reload failed; still serving the last good version")[0],
      "the failure line",
    );
    // The line `svc check` prints: the file, line and column, and the reason.
    assert.match(svc.stderr(), /handlers\/echo\.ts:\d+:\d+: cannot be imported: /);
    assert.doesNotMatch(svc.stderr(), /svc-reload=/);
    assert.equal(await say(client, "b"), "v1:b");

    await fixture.write("handlers/echo.ts", source.replace('"v1"', '"v3"'));
    await until(async () => await say(client, "b") === "v3:b", "the fixed handler's reply");
  } finally {
    client.close();
  }
});

const pythonMissing = await pythonGrpcMissing();

Deno.test("svc dev serves a method added to the proto, and reflection describes it", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir);
  const proto = await fixture.read("proto/dev.proto");
  await fixture.write(
    "proto/dev.proto",
    proto.replace(
      "rpc Say(SayRequest) returns (SayReply);",
      "rpc Say(SayRequest) returns (SayReply);\n  rpc Shout(SayRequest) returns (SayReply);",
    ),
  );
  const source = await fixture.read("handlers/echo.ts");
  await fixture.write(
    "handlers/echo.ts",
    source.replace(
      "  say(req",
      "  shout(req: { text: string }) {\n    return { text: req.text.toUpperCase() };\n  },\n  say(req",
    ),
  );
  const client = clientFor(fixture, "dev.Echo", svc.port);
  try {
    await until(async () => {
      try {
        return (await unary<{ text: string }>(client, "shout", { text: "hi" })).text === "HI";
      } catch {
        return false;
      }
    }, "the new method's reply");
    if (pythonMissing) {
      console.log(`dev_test: reflection check skipped: ${pythonMissing}`);
      return;
    }
    const [listed, found] = await runPython("reflection_client.py", [
      "--port",
      String(svc.port),
      "--symbol",
      "dev.Echo",
    ]);
    assert.ok((listed.services as string[]).includes("dev.Echo"));
    assert.deepEqual((found.methods as Record<string, string[]>).Shout, [
      "dev.SayRequest",
      "dev.SayReply",
    ]);
  } finally {
    client.close();
  }
});

Deno.test("svc dev restarts in-process on the new port when server.port changes, and says so", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir);
  const port = freePort();
  const config = await fixture.read("svc.yaml");
  await fixture.write("svc.yaml", config.replace("port: 0", `port: ${port}`));
  const line = await until(() => linesWith(svc, "restarted")[0], "the restart line");
  assert.equal(line.port, port);
  assert.match(String(line.reason), /server\.port changed/);
  const client = clientFor(fixture, "dev.Echo", port);
  try {
    assert.equal(await say(client, "c"), "v1:c");
  } finally {
    client.close();
  }
});

Deno.test("svc run reloads handlers on SIGHUP", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir, {
    args: ["run", fixture.config],
    env: { SVC_SHUTDOWN_DRAIN_DELAY: "0s" },
  });
  const client = clientFor(fixture, "dev.Echo", svc.port);
  try {
    const source = await fixture.read("handlers/echo.ts");
    await fixture.write("handlers/echo.ts", source.replace('"v1"', '"v2"'));
    assert.equal(await say(client, "d"), "v1:d", "svc run does not watch files");
    await svc.signal("SIGHUP");
    await until(() => linesWith(svc, "reloaded")[0], "the reload line");
    assert.equal(await say(client, "d"), "v2:d");
    assert.equal(linesWith(svc, "reloaded")[0].changed, "SIGHUP");
  } finally {
    client.close();
  }
});

Deno.test("svc dev exits promptly and cleanly on Ctrl-C (SIGINT)", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir);
  const started = Date.now();
  await svc.signal("SIGINT");
  const status = await svc.exited;
  assert.ok(Date.now() - started < 5_000, "exited within 5 s");
  assert.equal(status.code, 0);
  assert.doesNotMatch(svc.stderr(), /unhandled|^\s+at /m);
});

Deno.test("svc dev memory stays bounded over 100 reloads of a small handler", async () => {
  await using fixture = await copyDevFixture();
  await using svc = await startDev(fixture.dir);
  const client = clientFor(fixture, "dev.Echo", svc.port);
  try {
    const source = await fixture.read("handlers/echo.ts");
    // Each edit is a new version of the file: a module Deno keeps for good.
    const reloads = async (from: number, count: number) => {
      for (let i = from; i < from + count; i++) {
        await fixture.write("handlers/echo.ts", source.replace('"v1"', `"r${i}"`));
        await until(async () => await say(client, "e") === `r${i}:e`, `reload ${i}`);
      }
    };
    // Warm-up: the first reloads load code start-up did not need.
    await reloads(1, 5);
    const before = await rssBytes(svc.pid);
    await reloads(6, 100);
    const after = await rssBytes(svc.pid);
    const grownMiB = (after - before) / 2 ** 20;
    console.log(
      `dev_test: RSS ${(before / 2 ** 20).toFixed(1)} -> ${
        (after / 2 ** 20).toFixed(1)
      } MiB over 100 reloads`,
    );
    assert.ok(grownMiB < 64, `RSS grew ${grownMiB.toFixed(1)} MiB over 100 reloads`);
  } finally {
    client.close();
  }
});
