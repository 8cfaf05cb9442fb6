import assert from "node:assert/strict";
import { latencyDistribution, latencyPercentiles, parseSummary, percentile } from "./_h2load.ts";
import { CASES, grpcFrame, helloRequest, msg, streamRequest } from "./_cases.ts";

const OUTPUT = `
finished in 10.00s, 9600.30 req/s, 1.21MB/s
requests: 96003 total, 96259 started, 96003 done, 96000 succeeded, 3 failed, 0 errored, 0 timeout
status codes: 96259 2xx, 0 3xx, 2 4xx, 1 5xx
traffic: 2.78MB (2912052) total, 67.78KB (69408) headers (space savings 95.83%), 1.52MB (1594544) data
`;

Deno.test("parseSummary() reads succeeded, failed, non-2xx, data bytes and the duration", () => {
  assert.deepEqual(parseSummary(OUTPUT), {
    succeeded: 96000,
    failed: 3,
    non2xx: 3,
    dataBytes: 1594544,
    seconds: 10,
    rate: 9600,
  });
  const ms = parseSummary(OUTPUT.replace("10.00s", "500.00ms"));
  assert.deepEqual([ms.seconds, ms.rate], [0.5, 192000]);
});

Deno.test("latencyPercentiles() uses only HTTP 200 lines, in ms", () => {
  const lines = Array.from({ length: 100 }, (_, i) => `1\t200\t${(i + 1) * 1000}`);
  lines.push("1\t503\t999999999", "");
  assert.deepEqual(latencyPercentiles(lines.join("\n")), { p50: 50, p99: 99 });
});

Deno.test("latencyDistribution() adds p99.9, the maximum and the count", () => {
  const lines = Array.from({ length: 2000 }, (_, i) => `1\t200\t${(i + 1) * 1000}`);
  lines.push("1\t-1\t999999999", "");
  assert.deepEqual(latencyDistribution(lines.join("\n")), {
    p50: 1000,
    p99: 1980,
    p999: 1998,
    max: 2000,
    count: 2000,
  });
  assert.deepEqual(latencyDistribution("").count, 0);
});

Deno.test("percentile() is nearest-rank and 0 for no samples", () => {
  assert.deepEqual(percentile([1, 2, 3, 4], 0.5), 2);
  assert.deepEqual(percentile([1, 2, 3, 4], 0.99), 4);
  assert.deepEqual(percentile([], 0.5), 0);
});

Deno.test("msg() and grpcFrame() make a 12-byte Msg with its 5-byte prefix", () => {
  const framed = grpcFrame(msg(10));
  assert.deepEqual(framed.length, 17);
  assert.deepEqual([...framed.subarray(0, 7)], [0, 0, 0, 0, 12, 0x0a, 10]);
  assert.deepEqual(msg(65536).length, 65536 + 4);
  assert.deepEqual([...streamRequest(1000, 10).subarray(0, 5)], [0x08, 0xe8, 0x07, 0x12, 10]);
});

Deno.test("the gRPC-Web case's request is as long as unary-small's; Connect's is its JSON", () => {
  const body = (name: string) => CASES.find((c) => c.name === name)!.body!;
  assert.deepEqual(body("grpc-web-unary-h1"), grpcFrame(helloRequest("aaaaaaaaaa")));
  assert.deepEqual(body("grpc-web-unary-h1").length, body("unary-small").length);
  assert.deepEqual(
    new TextDecoder().decode(body("connect-json-unary-h2")),
    '{"name":"aaaaaaaaaa"}',
  );
});
