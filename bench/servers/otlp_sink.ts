/**
 * The collector the tracing contenders export to: reads OTLP/HTTP POSTs and
 * answers 200 with an empty body, keeping the connection open as a real
 * collector does. Raw HTTP/1.1 on a TCP listener rather than Deno.serve,
 * which closes the connection after a request body of about 100 KB (an
 * export batch), so the server under test would pay a new TCP connection
 * per batch. It runs as its own process: its CPU is not the server's.
 *
 *   deno run -A bench/servers/otlp_sink.ts PORT
 * @module
 */
const port = Number(Deno.args[0]);
const OK = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
);
const listener = Deno.listen({ hostname: "127.0.0.1", port });
console.log(JSON.stringify({ port: (listener.addr as Deno.NetAddr).port }));
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

for await (const conn of listener) serve(conn).catch(() => conn.close());

/** Requests on one connection, one after another: head, `content-length` bytes of body, answer. */
async function serve(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(1 << 20);
  let have = 0;
  for (;;) {
    let end = -1;
    while ((end = headEnd(buf, have)) < 0) {
      const n = await conn.read(buf.subarray(have));
      if (n === null) return conn.close();
      have += n;
    }
    const head = new TextDecoder().decode(buf.subarray(0, end));
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    // The body is discarded as it comes. Clients wait for each answer
    // before the next request (no pipelining), so nothing follows it.
    let body = have - (end + 4);
    have = 0;
    while (body < length) {
      const n = await conn.read(buf);
      if (n === null) return conn.close();
      body += n;
    }
    await conn.write(OK);
  }
}

function headEnd(buf: Uint8Array, have: number): number {
  for (let i = 3; i < have; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i - 3;
  }
  return -1;
}
