/**
 * TLS and mTLS from config, with throwaway certificates made by openssl.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect } from "node:net";
import { makeTestCerts } from "./_certs.ts";
import { grpcClient, ROOT, startSvc, TEST_TRANSPORT, unary } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const factory = () => grpcClient([`${ROOT}/tests/fixtures/e2e/proto/e2e.proto`]);

Deno.test("server.tls serves TLS and, with clientAuth require, verifies client certificates", async (t) => {
  const certs = await makeTestCerts();
  try {
    const ca = Buffer.from(await Deno.readFile(certs.caCert));
    const clientKey = Buffer.from(await Deno.readFile(certs.clientKey));
    const clientCert = Buffer.from(await Deno.readFile(certs.clientCert));

    await t.step("TLS: a client trusting the CA is served; a plaintext client is not", async () => {
      await using svc = await startSvc({
        config: CONFIG,
        env: { SVC_SERVER_TLS_CERT: certs.serverCert, SVC_SERVER_TLS_KEY: certs.serverKey },
      });
      const tlsClient = factory().makeClient("e2e.Test", svc.port, grpc.credentials.createSsl(ca), {
        "grpc.ssl_target_name_override": "localhost",
      });
      const plain = factory().makeClient("e2e.Test", svc.port);
      try {
        const reply = await unary<{ message: string; clientCertCn: string }>(tlsClient, "echo", {
          message: "secure",
        });
        assert.equal(reply.message, "secure");
        assert.equal(reply.clientCertCn, "", "no client certificate without mTLS");
        await assert.rejects(unary(plain, "echo", {}, { timeoutMs: 2000 }), {
          code: grpc.status.UNAVAILABLE,
        });
      } finally {
        tlsClient.close();
        plain.close();
      }
    });

    await t.step(
      "mTLS: the client certificate is required and its identity is on ctx",
      async () => {
        await using svc = await startSvc({
          config: CONFIG,
          env: {
            SVC_SERVER_TLS_CERT: certs.serverCert,
            SVC_SERVER_TLS_KEY: certs.serverKey,
            SVC_SERVER_TLS_CA: certs.caCert,
            SVC_SERVER_TLS_CLIENT_AUTH: "require",
          },
        });
        const options = { "grpc.ssl_target_name_override": "localhost" };
        const withCert = factory().makeClient(
          "e2e.Test",
          svc.port,
          grpc.credentials.createSsl(ca, clientKey, clientCert),
          options,
        );
        const withoutCert = factory().makeClient(
          "e2e.Test",
          svc.port,
          grpc.credentials.createSsl(ca),
          options,
        );
        try {
          const reply = await unary<{ clientCertCn: string }>(withCert, "echo", {});
          assert.equal(reply.clientCertCn, "test-client");
          await assert.rejects(unary(withoutCert, "echo", {}, { timeoutMs: 2000 }), {
            code: grpc.status.UNAVAILABLE,
          });
          const again = await unary<{ clientCertCn: string }>(withCert, "echo", {});
          assert.equal(
            again.clientCertCn,
            "test-client",
            "the server still serves after a rejected handshake",
          );
        } finally {
          withCert.close();
          withoutCert.close();
        }
      },
    );
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test({
  name: "100 TLS clients that connect and never say hello are closed within prefaceTimeout",
  // The grpc-js fallback's TLS handshake timeout is node:tls's own (see docs/transport.md).
  ignore: TEST_TRANSPORT !== "native",
  async fn() {
    const certs = await makeTestCerts();
    try {
      await using svc = await startSvc({
        config: CONFIG,
        env: {
          SVC_SERVER_TLS_CERT: certs.serverCert,
          SVC_SERVER_TLS_KEY: certs.serverKey,
          SVC_SERVER_HTTP2_PREFACE_TIMEOUT: "1s",
        },
      });
      // node:net, not Deno.connect: Deno 2.8.3 does not end a pending read on close().
      const started = performance.now();
      const sockets = Array.from({ length: 100 }, () => connect(svc.port, "127.0.0.1"));
      // Bounded: a connection still open after 5 s is destroyed by the test and reported.
      const giveUp = setTimeout(() => sockets.forEach((socket) => socket.destroy()), 5_000);
      const closedAfter = await Promise.all(
        sockets.map((socket) =>
          new Promise<number>((resolve) => {
            socket.on("error", () => {});
            socket.once("close", () => resolve(performance.now() - started));
          })
        ),
      );
      clearTimeout(giveUp);
      const last = Math.max(...closedAfter);
      assert.ok(
        last < 1_000 + 1_500,
        `the last silent client was closed after ${Math.round(last)} ms`,
      );
    } finally {
      await Deno.remove(certs.dir, { recursive: true });
    }
  },
});
