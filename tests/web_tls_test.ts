/**
 * End-to-end: with TLS, the web protocols are chosen by ALPN on the gRPC
 * port. svc offers `h2` and `http/1.1`: curl over HTTP/1.1 gets a Connect
 * JSON answer, connect-node gRPC-Web and Connect clients over HTTP/2 and
 * grpc-js are served on the same port, and without the
 * web switch only `h2` is offered. Throwaway certificates from openssl.
 * @module
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { connect as tlsConnect } from "node:tls";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { makeTestCerts } from "./_certs.ts";
import { grpcClient, startSvc, unary } from "./_harness.ts";
import { curl, loadRegistry, WEB_ENV } from "./_connect.ts";

const GREETER_PROTO = "proto/helloworld.proto";

/** The protocol TLS settles on when the client offers `offered`; bounded. */
function negotiated(port: number, ca: Buffer, offered: string[]): Promise<string | false | null> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca, ALPNProtocols: offered });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("TLS handshake timed out"));
    }, 5_000);
    socket.on("secureConnect", () => {
      clearTimeout(timer);
      resolve(socket.alpnProtocol ?? null);
      socket.destroy();
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

Deno.test("web protocols over TLS: ALPN chooses HTTP/1.1 or HTTP/2 on the gRPC port", async (t) => {
  const certs = await makeTestCerts();
  try {
    const ca = Buffer.from(await Deno.readFile(certs.caCert));
    const tls = { SVC_SERVER_TLS_CERT: certs.serverCert, SVC_SERVER_TLS_KEY: certs.serverKey };
    const json = ["-H", "content-type: application/json", "-d", '{"name":"Ada"}'];

    await t.step("with web on, ALPN offers h2 and http/1.1", async () => {
      await using svc = await startSvc({ config: "config/svc.yaml", env: { ...WEB_ENV, ...tls } });
      const url = `https://localhost:${svc.port}/helloworld.Greeter/SayHello`;
      assert.equal(await negotiated(svc.port, ca, ["http/1.1"]), "http/1.1");
      assert.equal(await negotiated(svc.port, ca, ["h2", "http/1.1"]), "h2");

      // curl's --http1.1 (from the helper) negotiates http/1.1.
      const h1 = await curl(url, ["--cacert", certs.caCert, ...json]);
      assert.equal(h1.status, 200, h1.stderr + h1.body);
      assert.deepEqual(JSON.parse(h1.body), { message: "Hello, Ada!" });

      const greeter = (await loadRegistry(GREETER_PROTO, "proto")).getService(
        "helloworld.Greeter",
      )!;
      const baseUrl = `https://localhost:${svc.port}`;
      const session = new Http2SessionManager(baseUrl, undefined, { ca });
      try {
        // Over HTTP/2, which TLS can only have agreed by ALPN h2.
        const common = { baseUrl, httpVersion: "2" as const, sessionManager: session };
        for (const transport of [createGrpcWebTransport(common), createConnectTransport(common)]) {
          // deno-lint-ignore no-explicit-any
          const client: any = createClient(greeter, transport);
          const reply = await client.sayHello({ name: "Bo" }, { timeoutMs: 10_000 });
          assert.equal(reply.message, "Hello, Bo!");
        }
      } finally {
        session.abort();
      }

      const client = grpcClient([GREETER_PROTO]).makeClient(
        "helloworld.Greeter",
        svc.port,
        grpc.credentials.createSsl(ca),
        { "grpc.ssl_target_name_override": "localhost" },
      );
      try {
        const reply = await unary<{ message: string }>(client, "sayHello", { name: "Cy" });
        assert.equal(reply.message, "Hello, Cy!");
      } finally {
        client.close();
      }
    });

    await t.step("with web off, only h2 is offered", async () => {
      await using svc = await startSvc({
        config: "config/svc.yaml",
        env: { ...tls, SVC_SERVER_TRANSPORT: "native" },
      });
      assert.equal(await negotiated(svc.port, ca, ["h2", "http/1.1"]), "h2");
      // A client offering only http/1.1 gets no protocol it asked for.
      const chosen = await negotiated(svc.port, ca, ["http/1.1"]).catch(() => "refused");
      assert.notEqual(chosen, "http/1.1");
    });
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});
