import assert from "node:assert/strict";
import { methodCounts, parseMetrics } from "./_svc_metrics.ts";

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
  });
  assert.deepEqual(methodCounts(samples, "Ping"), {
    ok: 7,
    notOk: 0,
    cancelled: 0,
    sent: 0,
    received: 9,
  });
});
