/**
 * A request that needs a module svc loads lazily must not crash a process
 * that is out of file descriptors: Deno 2.8.3 panics (the process dies) on a
 * module load that meets EMFILE when running from source, and the import
 * fails from the bundle. So svc loads those modules in the background soon
 * after it serves (runtime/app/warm_lazy_modules.ts), and a load that finds
 * no free descriptor is refused, not attempted, and tried again later
 * (runtime/util/descriptor_headroom.ts). Here a running `svc run` gets a
 * limit of 128 descriptors (prlimit, as in listener_recovery_test.ts) and
 * 300 connections; over connections opened before, it gets its first
 * reflection stream, /metrics scrape and Connect JSON call. After the
 * warm-up each answers; before it, svc lives. Once the flood is gone,
 * everything answers.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { grpcClient, ROOT, startSvc, TEST_TRANSPORT, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);
const prlimit = await new Deno.Command("prlimit", { args: ["--version"], stdout: "null" })
  .output().then((r) => r.success, () => false);

const REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
const HEALTH = "/grpc.health.v1.Health/Check";
const raw = (b: Buffer) => b;

/**
 * ServerReflectionRequest{file_containing_symbol: symbol} by hand (field 4,
 * length-delimited): the test needs no reflection .proto of its own.
 */
function fileContainingSymbol(symbol: string): Buffer {
  const name = Buffer.from(symbol);
  return Buffer.concat([Buffer.from([0x22, name.length]), name]);
}

/** One reflection request and its first answer (raw bytes), bounded by `timeoutMs`. */
function reflect(client: grpc.Client, symbol: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(REFLECTION, raw, raw, new grpc.Metadata(), {
      deadline: Date.now() + timeoutMs,
    });
    call.on("data", (answer: Buffer) => {
      resolve(answer);
      call.end();
    });
    call.on("error", reject);
    call.on("end", () => reject(new Error("reflection stream ended without an answer")));
    call.write(fileContainingSymbol(symbol));
  });
}

/** Health Check of the whole server; resolves with the status number (1 = SERVING). */
function healthCheck(client: grpc.Client, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(HEALTH, raw, raw, Buffer.alloc(0), new grpc.Metadata(), {
      deadline: Date.now() + timeoutMs,
    }, (error, reply) => {
      if (error) return reject(error);
      // HealthCheckResponse{status = 1}: 08 01; SERVING is 1.
      resolve(reply && reply.length === 2 && reply[0] === 0x08 ? reply[1] : -1);
    });
  });
}

const ignore = !prlimit || TEST_TRANSPORT !== "native";

Deno.test({
  name:
    "out of file descriptors after the warm-up: first reflection, /metrics, Connect JSON answer",
  // The grpc-js fallback's listener has no EMFILE watch (listener_recovery_test.ts).
  ignore,
  fn: () => starve({ beforeWarmUp: false }),
});

Deno.test({
  name: "out of file descriptors before the warm-up: svc lives, and all answers once freed",
  ignore,
  fn: () => starve({ beforeWarmUp: true }),
});

/**
 * Starts svc, opens connections, limits it to 128 descriptors and floods it
 * with 300 connections; then reflection, a scrape and a Connect JSON call
 * over the open connections. `beforeWarmUp`: the flood comes at once (the
 * warm-up meets it and must wait it out); otherwise after the warm-up, and
 * the three must answer while starved.
 */
async function starve({ beforeWarmUp }: { beforeWarmUp: boolean }): Promise<void> {
  await using svc = await startSvc({
    config: CONFIG,
    env: {
      SVC_ADMIN_ENABLED: "true",
      SVC_LOGGING_LEVEL: "debug",
      // Connect JSON needs the JSON codec, another module loaded lazily.
      SVC_SERVER_WEB_ENABLED: "true",
    },
  });
  let exited = false;
  svc.exited.then(() => exited = true);
  // Connections made now, while descriptors are to be had: HTTP/2 to the
  // gRPC port, keep-alive HTTP/1.1 to the admin port and to the gRPC port.
  const client = new grpc.Client(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure());
  const admin = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
  const scrape = (timeoutMs: number) =>
    fetch(`http://127.0.0.1:${svc.adminPort}/metrics`, {
      client: admin,
      signal: AbortSignal.timeout(timeoutMs),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const web = Deno.createHttpClient({ poolMaxIdlePerHost: 1, http1: true, http2: false });
  const connectEcho = (contentType: string, body: string, timeoutMs: number) =>
    fetch(`http://127.0.0.1:${svc.port}/e2e.Test/Echo`, {
      client: web,
      method: "POST",
      headers: { "content-type": contentType },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const sockets: Socket[] = [];
  try {
    const [health, live, binary] = await Promise.all([
      healthCheck(client, 5_000),
      fetch(`http://127.0.0.1:${svc.adminPort}/livez`, {
        client: admin,
        signal: AbortSignal.timeout(5_000),
      }).then((r) => r.status),
      // Connect with a binary body (an empty EchoRequest): no JSON codec needed yet.
      connectEcho("application/proto", "", 5_000).then((r) => r.status),
    ]);
    assert.deepEqual([health, live, binary], [1, 200, 200]);
    if (!beforeWarmUp) {
      // The warm-up runs shortly after "serving". Without it (before the
      // fix) this wait times out, and the test shows what a first use out
      // of descriptors does.
      await svc.waitForLog((l) => l.msg === "lazy modules loaded", 5_000).catch(() => null);
    }

    const limited = await new Deno.Command("prlimit", {
      args: ["--pid", String(svc.pid), "--nofile=128:128"],
    }).output();
    assert.ok(limited.success, new TextDecoder().decode(limited.stderr));
    for (let i = 0; i < 300; i++) {
      const socket = connect(svc.port, "127.0.0.1");
      socket.on("error", () => {});
      sockets.push(socket);
    }
    await svc.waitForLog((l) => l.msg === "gRPC listener out of file descriptors", 10_000);

    // Out of descriptors now: the process must not die.
    const reflected = await reflect(client, "e2e.Test", 5_000).then(
      (answer) => ({ answer }),
      (error: Error) => ({ error }),
    );
    const scraped = await scrape(5_000).catch((error: Error) => ({ error }));
    const json = await connectEcho("application/json", '{"message":"json"}', 5_000)
      .catch((error: Error) => ({ error }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const seen = [
      `reflection: ${"error" in reflected ? reflected.error : "answered"}`,
      `scrape: ${"error" in scraped ? scraped.error : scraped.status}`,
      `Connect JSON: ${"error" in json ? json.error : `${json.status} ${json.body}`}`,
    ].join("; ");
    assert.ok(!exited, `svc died out of descriptors (${seen}); stderr:\n${svc.stderr()}`);
    if (!beforeWarmUp) {
      // Each answered: none needed a module load it could not do.
      assert.ok("answer" in reflected && reflected.answer.includes(Buffer.from("e2e.proto")), seen);
      assert.ok("status" in scraped && scraped.status === 200, seen);
      assert.ok("status" in json && json.status === 200, seen);
      assert.equal(JSON.parse(json.body).message, "json");
    }

    for (const socket of sockets) socket.destroy();
    sockets.length = 0;
    await svc.waitForLog((l) => l.msg === "gRPC listener accepting again", 10_000);
    assert.ok(!exited, `svc died: ${svc.stderr().slice(-3_000)}`);
    // Healthy afterwards: a fresh connection gets SERVING, Echo and
    // reflection answer; so do a scrape and a Connect JSON call (a load
    // refused while starved is tried again).
    const fresh = factory.makeClient("e2e.Test", svc.port);
    try {
      assert.equal(await healthCheck(fresh, 5_000), 1);
      const reply = await unary<{ message: string }>(fresh, "echo", { message: "alive" }, {
        timeoutMs: 5_000,
      });
      assert.equal(reply.message, "alive");
      const answer = await reflect(fresh, "e2e.Test", 5_000);
      assert.ok(answer.includes(Buffer.from("e2e.proto")), "reflection describes e2e.proto");
    } finally {
      fresh.close();
    }
    const metrics = await scrape(5_000);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /grpc_server_handled_total/);
    const after = await connectEcho("application/json", '{"message":"after"}', 5_000);
    assert.equal(after.status, 200, after.body);
    assert.equal(JSON.parse(after.body).message, "after");
  } finally {
    for (const socket of sockets) socket.destroy();
    client.close();
    admin.close();
    web.close();
  }
}
