import assert from "node:assert/strict";
import type { LogFields, Logger } from "../core/logger.ts";
import { createMetrics } from "../metrics/mod.ts";
import { type AdminOptions, startAdmin } from "./mod.ts";

const TEXT = "text/plain; charset=utf-8";

/** Liveness and readiness the test flips, plus a canned metrics body. */
function _state() {
  const state = { live: true, ready: true, reason: "" };
  const options: AdminOptions = {
    host: "127.0.0.1",
    port: 0,
    render: () =>
      Promise.resolve({ contentType: "text/plain; version=0.0.4; charset=utf-8", body: "up 1\n" }),
    live: () => state.live,
    ready: () => ({ ready: state.ready, reason: state.reason }),
  };
  return { state, options };
}

async function _get(port: number, path: string, method = "GET") {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    allow: response.headers.get("allow"),
    body: await response.text(),
  };
}

/** Closes every connection the server has not closed already. */
function _closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* closed by the server already */ }
  }
}

function _logger(lines: { msg: string; fields?: LogFields }[]): Logger {
  const log = (msg: string, fields?: LogFields) => lines.push({ msg, fields });
  const logger: Logger = {
    debug: log,
    info: log,
    warn: log,
    error: log,
    child: () => logger,
    enabled: () => true,
  };
  return logger;
}

Deno.test("startAdmin() serves /metrics with the renderer's content type", async () => {
  const admin = await startAdmin(_state().options);
  try {
    assert.ok(admin.port > 0);
    assert.deepEqual(await _get(admin.port, "/metrics"), {
      status: 200,
      type: "text/plain; version=0.0.4; charset=utf-8",
      allow: null,
      body: "up 1\n",
    });
  } finally {
    await admin.close();
  }
});

Deno.test("startAdmin() serves real metrics from createMetrics()", async () => {
  const metrics = createMetrics({
    methods: [{ service: "demo.Echo", name: "Unary", kind: "unary" }],
  });
  const admin = await startAdmin({ ..._state().options, render: metrics.render });
  try {
    const response = await _get(admin.port, "/metrics");
    assert.equal(response.status, 200);
    assert.equal(response.type, "text/plain; version=0.0.4; charset=utf-8");
    assert.match(
      response.body,
      /^grpc_server_started_total\{grpc_type="unary",grpc_service="demo\.Echo",grpc_method="Unary"\} 0$/m,
    );
    assert.match(response.body, /^process_cpu_seconds_total \d/m);
  } finally {
    await admin.close();
  }
});

Deno.test("startAdmin() answers /healthz and /livez from live()", async () => {
  const { state, options } = _state();
  const admin = await startAdmin(options);
  try {
    for (const path of ["/healthz", "/livez"]) {
      assert.deepEqual(await _get(admin.port, path), {
        status: 200,
        type: TEXT,
        allow: null,
        body: "ok\n",
      });
    }
    state.live = false;
    for (const path of ["/healthz", "/livez"]) {
      const response = await _get(admin.port, path);
      assert.equal(response.status, 503);
      assert.equal(response.type, TEXT);
    }
  } finally {
    await admin.close();
  }
});

Deno.test("startAdmin() switches /readyz between ready and not ready with the reason", async () => {
  const { state, options } = _state();
  const admin = await startAdmin(options);
  try {
    assert.deepEqual(await _get(admin.port, "/readyz"), {
      status: 200,
      type: TEXT,
      allow: null,
      body: "ready\n",
    });
    state.ready = false;
    state.reason = "draining";
    assert.deepEqual(await _get(admin.port, "/readyz"), {
      status: 503,
      type: TEXT,
      allow: null,
      body: "not ready: draining\n",
    });
    state.ready = true;
    assert.equal((await _get(admin.port, "/readyz?verbose=1")).status, 200);
  } finally {
    await admin.close();
  }
});

Deno.test("startAdmin() answers 404 for other paths and 405 for other methods", async () => {
  const admin = await startAdmin(_state().options);
  try {
    assert.deepEqual(await _get(admin.port, "/nope"), {
      status: 404,
      type: TEXT,
      allow: null,
      body: "not found\n",
    });
    assert.deepEqual(await _get(admin.port, "/metrics", "POST"), {
      status: 405,
      type: TEXT,
      allow: "GET, HEAD",
      body: "method not allowed\n",
    });
    const head = await _get(admin.port, "/healthz", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
  } finally {
    await admin.close();
  }
});

Deno.test("startAdmin() answers 500 when rendering fails, and logs it", async () => {
  const lines: { msg: string; fields?: LogFields }[] = [];
  const { options } = _state();
  const admin = await startAdmin({
    ...options,
    render: () => Promise.reject(new Error("boom")),
    log: _logger(lines),
  });
  try {
    const response = await _get(admin.port, "/metrics");
    assert.equal(response.status, 500);
    assert.equal(response.body, "cannot render metrics\n");
  } finally {
    await admin.close();
  }
  assert.deepEqual(lines[0], {
    msg: "admin listening",
    fields: { host: "127.0.0.1", port: admin.port },
  });
  assert.deepEqual(lines[1], { msg: "cannot render metrics", fields: { error: "Error: boom" } });
});

Deno.test("startAdmin() throws when the port is taken", async () => {
  const admin = await startAdmin(_state().options);
  try {
    await assert.rejects(
      () => startAdmin({ ..._state().options, port: admin.port }),
      Deno.errors.AddrInUse,
    );
  } finally {
    await admin.close();
  }
});

Deno.test("AdminServer.close() answers a hanging /metrics 503 and returns promptly", async () => {
  const { options } = _state();
  const { promise: called, resolve } = Promise.withResolvers<void>();
  const admin = await startAdmin({
    ...options,
    render: () => {
      resolve();
      return new Promise(() => {}); // never settles
    },
  });
  const pending = _get(admin.port, "/metrics");
  await called;
  const started = performance.now();
  await admin.close();
  assert.ok(performance.now() - started < 1000);
  const response = await pending;
  assert.equal(response.status, 503);
  assert.equal(response.body, "shutting down\n");
  assert.equal(admin.close(), admin.close());
});

Deno.test("AdminServer.close() is bounded by closeTimeoutMs when a client stalls mid-request", async () => {
  const admin = await startAdmin({ ..._state().options, closeTimeoutMs: 300 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.port });
  try {
    // Headers never finish, so the server has a request it cannot answer.
    await conn.write(new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await admin.close();
    assert.ok(performance.now() - started < 1000);
  } finally {
    conn.close();
  }
});

Deno.test("AdminServer.close() gives up after closeTimeoutMs on a client that never reads", async () => {
  // Large enough to fill both sockets' buffers, so the server's write blocks.
  const body = "x".repeat(20_000_000);
  const admin = await startAdmin({
    ..._state().options,
    render: () => Promise.resolve({ contentType: "text/plain", body }),
    closeTimeoutMs: 300,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.port });
  try {
    await conn.write(new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await admin.close();
    const took = performance.now() - started;
    assert.ok(took >= 250 && took < 1000, `close() took ${took} ms`);
  } finally {
    // The stalled response ends once its client goes away.
    conn.close();
  }
});

Deno.test("startAdmin() closes 600 connections that send half a request once their head deadline passes", async () => {
  const admin = await startAdmin({ ..._state().options, headTimeoutMs: 300 });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 600; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.port });
      conns.push(conn);
      if (i % 2 === 0) await conn.write(new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHo"));
    }
    const started = performance.now();
    // Every connection is closed by the server: a read returns EOF (null) or a 408 then EOF.
    const ends = await Promise.all(conns.map(async (conn) => {
      const buf = new Uint8Array(512);
      let text = "";
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return text;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
    }));
    const took = performance.now() - started;
    assert.ok(took < 3_000, `closed after ${Math.round(took)} ms`);
    // At most 256 are held at once: older ones were closed as newer came; the rest by the deadline.
    const timedOut = ends.filter((t) => t.startsWith("HTTP/1.1 408 ")).length;
    assert.ok(timedOut > 0 && timedOut <= 300, `${timedOut} answered 408`);
    assert.ok(ends.every((t) => t === "" || t.startsWith("HTTP/1.1 408 ")));
    // The port still answers.
    assert.equal((await _get(admin.port, "/healthz")).status, 200);
  } finally {
    _closeAll(conns);
    await admin.close();
  }
});

Deno.test("startAdmin() keeps a connection alive across requests and refuses an oversized head", async () => {
  const admin = await startAdmin(_state().options);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.port });
  const read = async () => {
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  };
  try {
    const request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    await conn.write(new TextEncoder().encode(request));
    assert.match(await read(), /^HTTP\/1\.1 200 OK\r\n[^]*connection: keep-alive[^]*\r\n\r\nok\n$/);
    await conn.write(new TextEncoder().encode("HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert.match(await read(), /^HTTP\/1\.1 200 OK\r\n[^]*content-length: 6\r\n[^]*\r\n\r\n$/);
    await conn.write(new TextEncoder().encode(`GET / HTTP/1.1\r\nX: ${"y".repeat(9000)}`));
    assert.match(await read(), /^HTTP\/1\.1 413 /);
  } finally {
    conn.close();
    await admin.close();
  }
});

Deno.test("startAdmin() serves a probe at once while 300 half requests hold connections", async () => {
  const admin = await startAdmin(_state().options); // the default 10 s head deadline
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: admin.port });
      conns.push(conn);
      await conn.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\n"));
    }
    const started = performance.now();
    assert.equal((await _get(admin.port, "/healthz")).status, 200);
    assert.ok(performance.now() - started < 1_000);
  } finally {
    _closeAll(conns);
    await admin.close();
  }
});
