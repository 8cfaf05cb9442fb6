/**
 * nghttp2's own tools against the native transport: `nghttp` makes one gRPC
 * call by hand and sees the response, then the trailers; `h2load` makes
 * thousands over several connections and streams at once, and every one
 * must succeed. Peers we did not write, speaking plain HTTP/2.
 */
import assert from "node:assert/strict";
import { ROOT, startSvc } from "./_harness.ts";

const CONFIG = `${ROOT}/tests/fixtures/e2e/svc.yaml`;
const toolsMissing = !(await available("nghttp") && await available("h2load"));

async function available(tool: string): Promise<boolean> {
  return await new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
    .output().then((r) => r.success, () => false);
}

/** e2e.EchoRequest { message: "hi" } with gRPC's 5-byte prefix. */
const ECHO_HI = new Uint8Array([0, 0, 0, 0, 4, 0x0a, 0x02, 0x68, 0x69]);

async function run(tool: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(tool, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `${tool} exited ${code}: ${new TextDecoder().decode(stderr)}\n${text}`);
  return text;
}

Deno.test({
  name: "nghttp and h2load call svc on the native transport: response, trailers, no failures",
  ignore: toolsMissing,
  async fn(t) {
    await using svc = await startSvc({
      config: CONFIG,
      env: { SVC_SERVER_TRANSPORT: "native", SVC_LOGGING_ACCESS_LOG: "false" },
    });
    const body = await Deno.makeTempFile({ suffix: ".bin" });
    await Deno.writeFile(body, ECHO_HI);
    const url = `http://127.0.0.1:${svc.port}/e2e.Test/Echo`;
    const grpcHeaders = ["-H", "content-type: application/grpc", "-H", "te: trailers"];
    try {
      await t.step("nghttp -v: :status 200, the reply in DATA, then grpc-status 0", async () => {
        const out = await run("nghttp", ["-v", "-d", body, ...grpcHeaders, url]);
        assert.match(out, /recv \(stream_id=\d+\) :status: 200/);
        assert.match(out, /recv \(stream_id=\d+\) content-type: application\/grpc/);
        assert.match(out, /recv DATA frame <length=\d+, flags=0x00, stream_id=\d+>/);
        // nghttp prints a frame's fields before the frame's own line.
        const trailers = out.slice(out.lastIndexOf("recv DATA frame"));
        assert.match(trailers, /recv \(stream_id=\d+\) grpc-status: 0\n/);
        assert.match(
          trailers,
          /recv HEADERS frame <[^>]*flags=0x05[^>]*>\n *; END_STREAM \| END_HEADERS/,
        );
      });

      await t.step("h2load: 20,000 calls on 4 connections × 32 streams, all HTTP 200", async () => {
        const out = await run("h2load", [
          "-n20000",
          "-c4",
          "-m32",
          "-d",
          body,
          ...grpcHeaders,
          url,
        ]);
        assert.match(
          out,
          /requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed/,
        );
        assert.match(out, /status codes: 20000 2xx/);
      });

      await t.step("the process still serves afterwards", async () => {
        const out = await run("nghttp", ["-v", "-d", body, ...grpcHeaders, url]);
        assert.match(out, /grpc-status: 0/);
      });
    } finally {
      await Deno.remove(body);
    }
  },
});
