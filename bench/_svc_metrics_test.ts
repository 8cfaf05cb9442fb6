import assert from "node:assert/strict";
import { CASES } from "./_cases.ts";
import type { Load } from "./_load.ts";
import { type MethodCounts, methodCounts, parseMetrics, verifyMetrics } from "./_svc_metrics.ts";

const TEXT = `# HELP grpc_server_handled_total Total number of RPCs completed on the server.
grpc_server_handled_total{grpc_type="unary",grpc_service="bench.Echo",grpc_method="Say",grpc_code="OK"} 120
grpc_server_handled_total{grpc_type="unary",grpc_service="bench.Echo",grpc_method="Say",grpc_code="Canceled"} 3
grpc_server_handled_total{grpc_type="unary",grpc_service="bench.Echo",grpc_method="Say",grpc_code="Internal"} 1
grpc_server_handled_total{grpc_type="bidi_stream",grpc_service="bench.Echo",grpc_method="Ping",grpc_code="OK"} 7
grpc_server_msg_sent_total{grpc_type="unary",grpc_service="bench.Echo",grpc_method="Say"} 121
grpc_server_msg_received_total{grpc_type="bidi_stream",grpc_service="bench.Echo",grpc_method="Ping"} 9
svc_server_in_flight_calls 0
`;

Deno.test("methodCounts() sums handled by code, sent and received messages for one method", () => {
  const samples = parseMetrics(TEXT);
  assert.equal(samples.length, 7);
  assert.deepEqual(methodCounts(samples, "Say"), {
    ok: 120,
    notOk: 4,
    cancelled: 3,
    sent: 121,
    received: 0,
    unavailable: 0,
    shed: 0,
  });
  assert.deepEqual(methodCounts(samples, "Ping"), {
    ok: 7,
    notOk: 0,
    cancelled: 0,
    sent: 0,
    received: 9,
    unavailable: 0,
    shed: 0,
  });
});

const UNARY_64K = CASES.find((c) => c.name === "unary-64k")!;
const ZERO: MethodCounts = {
  ok: 0,
  notOk: 0,
  cancelled: 0,
  sent: 0,
  received: 0,
  unavailable: 0,
  shed: 0,
};
const h2load = (calls: number): Load => ({ calls, rate: calls, p50Ms: 1, p99Ms: 2 });

Deno.test("verifyMetrics() accepts calls the overload limiter shed, and says how many", () => {
  // CI, 2026-12-07: svc-native-overload, unary-64k, a saturating closed loop.
  const after = { ...ZERO, ok: 8085, notOk: 109, unavailable: 109, shed: 109 };
  const verified = verifyMetrics(UNARY_64K, ZERO, after, h2load(7938));
  assert.match(verified, /109 shed by the overload limiter/);
  assert.doesNotMatch(verifyMetrics(UNARY_64K, ZERO, { ...ZERO, ok: 100 }, h2load(100)), /shed/);
});

Deno.test("verifyMetrics() still fails on errors the limiter did not cause", () => {
  // UNAVAILABLE without a shed (a handler or the transport failing).
  assert.throws(
    () =>
      verifyMetrics(UNARY_64K, ZERO, { ...ZERO, ok: 100, notOk: 5, unavailable: 5 }, h2load(100)),
    /5 not OK \(0 Canceled, 0 shed/,
  );
  // Shed calls, plus an INTERNAL.
  assert.throws(
    () =>
      verifyMetrics(
        UNARY_64K,
        ZERO,
        { ...ZERO, ok: 100, notOk: 6, unavailable: 5, shed: 5 },
        h2load(100),
      ),
    /metrics disagree with h2load/,
  );
  // Fewer OK calls than h2load's successes beyond what was shed.
  assert.throws(
    () => verifyMetrics(UNARY_64K, ZERO, { ...ZERO, ok: 90 }, h2load(100)),
    /90 OK/,
  );
});
