#!/usr/bin/python3
"""gRPC interop client (Python grpcio) for the svc interop example.

Runs the standard interop test cases from
https://github.com/grpc/grpc/blob/master/doc/interop-test-descriptions.md
against a grpc.testing.TestService server, and prints one line per case:

    PASS empty_unary
    FAIL large_unary: response payload is 0 bytes, want 314159

Exits 0 when every selected case passed, 1 when any failed, 2 on bad usage.

    /usr/bin/python3 tests/interop/interop_client.py --port 50051
    /usr/bin/python3 tests/interop/interop_client.py --port 50051 --cases empty_unary,ping_pong

Stubs are generated at start-up with protoc and grpc_python_plugin into a
temporary directory, from the grpc-proto package (GRPC_PROTO_DIR, default
/usr/share/grpc-proto).
"""

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import grpc

import raw_grpc

CASES = [
    "empty_unary",
    "large_unary",
    "client_streaming",
    "server_streaming",
    "ping_pong",
    "empty_stream",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "cancel_after_begin",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_compressed_streaming",
    "server_compressed_streaming",
]

REQUEST_SIZES = [27182, 8, 1828, 45904]
RESPONSE_SIZES = [31415, 9, 2653, 58979]
ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\xab\xab\xab"
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"

# Upper bound for any single call, so a broken server fails a case instead of
# hanging the run.
CALL_TIMEOUT_S = 20.0


class CaseFailure(Exception):
    """An assertion of an interop case did not hold."""


def check(condition, message):
    if not condition:
        raise CaseFailure(message)


def generate_stubs(proto_dir, protoc):
    """Generates the test protos' Python modules; returns the temp directory."""
    out = tempfile.mkdtemp(prefix="svc-interop-stubs-")
    files = ["grpc/testing/test.proto", "grpc/testing/messages.proto", "grpc/testing/empty.proto"]
    plugin = shutil.which("grpc_python_plugin") or "/usr/bin/grpc_python_plugin"
    cmd = [
        protoc,
        f"-I{proto_dir}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-grpc_python={plugin}",
        *files,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        shutil.rmtree(out, ignore_errors=True)
        raise SystemExit(f"Cannot generate stubs with {' '.join(cmd)}: {result.stderr.strip()}")
    # The generated modules import each other as grpc.testing.*, a package
    # that lives beside grpcio's own grpc package.
    grpc.__path__.append(os.path.join(out, "grpc"))
    return out


class Pipe:
    """A request iterator fed from another thread; close() ends it."""

    def __init__(self):
        self._queue = queue.Queue()

    def add(self, item):
        self._queue.put(item)

    def close(self):
        self._queue.put(None)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is None:
            raise StopIteration()
        return item

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Cases:
    def __init__(self, channel, pb, empty_pb, test_grpc, address):
        self.address = address
        self.pb = pb
        self.empty_pb = empty_pb
        self.stub = test_grpc.TestServiceStub(channel)
        self.unimplemented_stub = test_grpc.UnimplementedServiceStub(channel)

    def payload(self, size):
        return self.pb.Payload(type=self.pb.COMPRESSABLE, body=b"\x00" * size)

    def check_payload(self, payload, size, what="response payload"):
        check(payload.type == self.pb.COMPRESSABLE, f"{what} type is {payload.type}, want COMPRESSABLE")
        check(len(payload.body) == size, f"{what} is {len(payload.body)} bytes, want {size}")
        check(payload.body == b"\x00" * size, f"{what} is not all zero bytes")

    def expect_error(self, fn, code, message=None):
        """Runs fn, which must raise grpc.RpcError with `code` (and `message`)."""
        try:
            fn()
        except grpc.RpcError as err:
            check(err.code() == code, f"status is {err.code()} ({err.details()!r}), want {code}")
            if message is not None:
                check(err.details() == message, f"status message is {err.details()!r}, want {message!r}")
            return err
        raise CaseFailure(f"call succeeded, want status {code}")

    # --- the cases ---------------------------------------------------------

    def empty_unary(self):
        response = self.stub.EmptyCall(self.empty_pb.Empty(), timeout=CALL_TIMEOUT_S)
        check(isinstance(response, self.empty_pb.Empty), f"response is {type(response)}, want Empty")
        check(response.ByteSize() == 0, "response is not empty")

    def large_unary(self):
        request = self.pb.SimpleRequest(
            response_type=self.pb.COMPRESSABLE, response_size=314159, payload=self.payload(271828)
        )
        response = self.stub.UnaryCall(request, timeout=CALL_TIMEOUT_S)
        self.check_payload(response.payload, 314159)

    def client_streaming(self):
        requests = (self.pb.StreamingInputCallRequest(payload=self.payload(n)) for n in REQUEST_SIZES)
        response = self.stub.StreamingInputCall(requests, timeout=CALL_TIMEOUT_S)
        check(
            response.aggregated_payload_size == 74922,
            f"aggregated_payload_size is {response.aggregated_payload_size}, want 74922",
        )

    def server_streaming(self):
        request = self.pb.StreamingOutputCallRequest(
            response_type=self.pb.COMPRESSABLE,
            response_parameters=[self.pb.ResponseParameters(size=n) for n in RESPONSE_SIZES],
        )
        responses = list(self.stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT_S))
        check(len(responses) == 4, f"got {len(responses)} responses, want 4")
        for i, (response, size) in enumerate(zip(responses, RESPONSE_SIZES)):
            self.check_payload(response.payload, size, f"response {i} payload")

    def ping_pong(self):
        with Pipe() as pipe:
            responses = self.stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT_S)
            for i, (request_size, response_size) in enumerate(zip(REQUEST_SIZES, RESPONSE_SIZES)):
                pipe.add(
                    self.pb.StreamingOutputCallRequest(
                        response_type=self.pb.COMPRESSABLE,
                        response_parameters=[self.pb.ResponseParameters(size=response_size)],
                        payload=self.payload(request_size),
                    )
                )
                response = next(responses, None)
                check(response is not None, f"stream ended after {i} responses, want 4")
                self.check_payload(response.payload, response_size, f"response {i} payload")
        check(next(responses, None) is None, "got more than 4 responses")
        check(responses.code() == grpc.StatusCode.OK, f"status is {responses.code()}, want OK")

    def empty_stream(self):
        responses = list(self.stub.FullDuplexCall(iter([]), timeout=CALL_TIMEOUT_S))
        check(len(responses) == 0, f"got {len(responses)} responses, want 0")

    def custom_metadata(self):
        metadata = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))

        def check_echo(call, what):
            initial = dict(call.initial_metadata() or ())
            trailing = dict(call.trailing_metadata() or ())
            check(
                initial.get(ECHO_INITIAL_KEY) == ECHO_INITIAL_VALUE,
                f"{what}: initial metadata {ECHO_INITIAL_KEY} is {initial.get(ECHO_INITIAL_KEY)!r},"
                f" want {ECHO_INITIAL_VALUE!r}",
            )
            check(
                trailing.get(ECHO_TRAILING_KEY) == ECHO_TRAILING_VALUE,
                f"{what}: trailing metadata {ECHO_TRAILING_KEY} is {trailing.get(ECHO_TRAILING_KEY)!r},"
                f" want {ECHO_TRAILING_VALUE!r}",
            )

        request = self.pb.SimpleRequest(
            response_type=self.pb.COMPRESSABLE, response_size=314159, payload=self.payload(271828)
        )
        response, call = self.stub.UnaryCall.with_call(request, metadata=metadata, timeout=CALL_TIMEOUT_S)
        self.check_payload(response.payload, 314159, "UnaryCall response payload")
        check_echo(call, "UnaryCall")

        stream_request = self.pb.StreamingOutputCallRequest(
            response_type=self.pb.COMPRESSABLE,
            response_parameters=[self.pb.ResponseParameters(size=314159)],
            payload=self.payload(271828),
        )
        responses = self.stub.FullDuplexCall(iter([stream_request]), metadata=metadata, timeout=CALL_TIMEOUT_S)
        received = list(responses)
        check(len(received) == 1, f"FullDuplexCall: got {len(received)} responses, want 1")
        self.check_payload(received[0].payload, 314159, "FullDuplexCall response payload")
        check_echo(responses, "FullDuplexCall")

    def _status_round_trip(self, message, duplex):
        code = 2
        status = self.pb.EchoStatus(code=code, message=message)
        self.expect_error(
            lambda: self.stub.UnaryCall(self.pb.SimpleRequest(response_status=status), timeout=CALL_TIMEOUT_S),
            grpc.StatusCode.UNKNOWN,
            message,
        )
        if duplex:
            request = self.pb.StreamingOutputCallRequest(response_status=status)
            self.expect_error(
                lambda: list(self.stub.FullDuplexCall(iter([request]), timeout=CALL_TIMEOUT_S)),
                grpc.StatusCode.UNKNOWN,
                message,
            )

    def status_code_and_message(self):
        self._status_round_trip("test status message", duplex=True)

    def special_status_message(self):
        self._status_round_trip(SPECIAL_STATUS_MESSAGE, duplex=False)

    def unimplemented_method(self):
        self.expect_error(
            lambda: self.stub.UnimplementedCall(self.empty_pb.Empty(), timeout=CALL_TIMEOUT_S),
            grpc.StatusCode.UNIMPLEMENTED,
        )

    def unimplemented_service(self):
        self.expect_error(
            lambda: self.unimplemented_stub.UnimplementedCall(self.empty_pb.Empty(), timeout=CALL_TIMEOUT_S),
            grpc.StatusCode.UNIMPLEMENTED,
        )

    def cancel_after_begin(self):
        with Pipe() as pipe:
            future = self.stub.StreamingInputCall.future(pipe, timeout=CALL_TIMEOUT_S)
            future.cancel()
            check(future.cancelled(), "future.cancelled() is False after cancel()")
            check(future.code() == grpc.StatusCode.CANCELLED, f"status is {future.code()}, want CANCELLED")
        self._still_serving()

    def cancel_after_first_response(self):
        with Pipe() as pipe:
            responses = self.stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT_S)
            pipe.add(
                self.pb.StreamingOutputCallRequest(
                    response_type=self.pb.COMPRESSABLE,
                    response_parameters=[self.pb.ResponseParameters(size=31415)],
                    payload=self.payload(27182),
                )
            )
            response = next(responses)
            self.check_payload(response.payload, 31415)
            responses.cancel()
            self.expect_error(lambda: next(responses), grpc.StatusCode.CANCELLED)
        self._still_serving()

    def timeout_on_sleeping_server(self):
        with Pipe() as pipe:
            responses = self.stub.FullDuplexCall(pipe, timeout=0.001)
            pipe.add(
                self.pb.StreamingOutputCallRequest(
                    response_type=self.pb.COMPRESSABLE, payload=self.payload(27182)
                )
            )
            self.expect_error(lambda: next(responses), grpc.StatusCode.DEADLINE_EXCEEDED)
        # Beyond the spec: a server that really sleeps (interval_us) must let
        # the deadline end the call, and then keep serving.
        request = self.pb.StreamingOutputCallRequest(
            response_type=self.pb.COMPRESSABLE,
            response_parameters=[self.pb.ResponseParameters(size=1, interval_us=30_000_000)],
        )
        started = time.monotonic()
        self.expect_error(
            lambda: list(self.stub.StreamingOutputCall(request, timeout=0.5)),
            grpc.StatusCode.DEADLINE_EXCEEDED,
        )
        elapsed = time.monotonic() - started
        check(elapsed < 10, f"a 0.5 s deadline took {elapsed:.1f} s to end the call")
        self._still_serving()

    # --- compression (grpcio for whole calls; raw_grpc for per-message flags)

    def _raw(self, method, messages):
        host, port = self.address
        return raw_grpc.call(host, port, f"/grpc.testing.TestService/{method}", messages, CALL_TIMEOUT_S)

    def client_compressed_unary(self):
        def request(expect):
            return self.pb.SimpleRequest(
                expect_compressed=self.pb.BoolValue(value=expect), response_type=self.pb.COMPRESSABLE,
                response_size=314159, payload=self.payload(271828),
            )
        # The probe: a server that cannot tell must refuse an uncompressed request it expected compressed.
        self.expect_error(
            lambda: self.stub.UnaryCall(request(True), timeout=CALL_TIMEOUT_S,
                                        compression=grpc.Compression.NoCompression),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        response = self.stub.UnaryCall(request(True), timeout=CALL_TIMEOUT_S,
                                       compression=grpc.Compression.Gzip)
        self.check_payload(response.payload, 314159)
        response = self.stub.UnaryCall(request(False), timeout=CALL_TIMEOUT_S,
                                       compression=grpc.Compression.NoCompression)
        self.check_payload(response.payload, 314159)

    def server_compressed_unary(self):
        for compressed in (True, False):
            request = self.pb.SimpleRequest(
                response_compressed=self.pb.BoolValue(value=compressed),
                response_type=self.pb.COMPRESSABLE, response_size=314159, payload=self.payload(271828),
            )
            self.check_payload(self.stub.UnaryCall(request, timeout=CALL_TIMEOUT_S).payload, 314159)
            status, message, replies = self._raw("UnaryCall", [(request.SerializeToString(), False)])
            check(status == 0, f"status {status} {message!r}, want OK")
            check(len(replies) == 1, f"got {len(replies)} responses, want 1")
            check(replies[0][0] == compressed, f"response compressed is {replies[0][0]}, want {compressed}")
            self.check_payload(self.pb.SimpleResponse.FromString(replies[0][1]).payload, 314159)

    def client_compressed_streaming(self):
        first = self.pb.StreamingInputCallRequest(
            expect_compressed=self.pb.BoolValue(value=True), payload=self.payload(27182)
        ).SerializeToString()
        second = self.pb.StreamingInputCallRequest(
            expect_compressed=self.pb.BoolValue(value=False), payload=self.payload(45904)
        ).SerializeToString()
        status, message, _ = self._raw("StreamingInputCall", [(first, False)])
        check(status == grpc.StatusCode.INVALID_ARGUMENT.value[0],
              f"uncompressed message expected compressed: status {status} {message!r}, want INVALID_ARGUMENT")
        status, message, replies = self._raw("StreamingInputCall", [(first, True), (second, False)])
        check(status == 0, f"status {status} {message!r}, want OK")
        size = self.pb.StreamingInputCallResponse.FromString(replies[0][1]).aggregated_payload_size
        check(size == 73086, f"aggregated_payload_size is {size}, want 73086")

    def server_compressed_streaming(self):
        request = self.pb.StreamingOutputCallRequest(
            response_type=self.pb.COMPRESSABLE,
            response_parameters=[
                self.pb.ResponseParameters(compressed=self.pb.BoolValue(value=True), size=31415),
                self.pb.ResponseParameters(compressed=self.pb.BoolValue(value=False), size=92653),
            ],
        )
        responses = list(self.stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT_S))
        check([len(r.payload.body) for r in responses] == [31415, 92653], "grpcio: wrong response sizes")
        status, message, replies = self._raw("StreamingOutputCall", [(request.SerializeToString(), False)])
        check(status == 0, f"status {status} {message!r}, want OK")
        check([flag for flag, _ in replies] == [True, False],
              f"responses compressed {[flag for flag, _ in replies]}, want [True, False]")
        for (_, body), size in zip(replies, (31415, 92653)):
            self.check_payload(self.pb.StreamingOutputCallResponse.FromString(body).payload, size)

    def _still_serving(self):
        """After a cancelled call the server must still answer."""
        try:
            self.stub.EmptyCall(self.empty_pb.Empty(), timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            raise CaseFailure(f"EmptyCall after the case failed: {err.code()} {err.details()!r}")


def main(argv):
    parser = argparse.ArgumentParser(description="gRPC interop client for svc")
    parser.add_argument("--host", "--server_host", default="127.0.0.1")
    parser.add_argument("--port", "--server_port", type=int, required=True)
    parser.add_argument("--cases", "--test_case", default="all", help="comma-separated case names, or all")
    parser.add_argument(
        "--proto-dir", default=os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
    )
    parser.add_argument("--protoc", default=shutil.which("protoc") or "/usr/bin/protoc")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    args = parser.parse_args(argv)

    if args.list:
        print("\n".join(CASES))
        return 0
    selected = CASES if args.cases == "all" else [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in selected if c not in CASES]
    if unknown:
        print(f"Cannot run cases {', '.join(unknown)}: unknown; known are {', '.join(CASES)}", file=sys.stderr)
        return 2

    stubs = generate_stubs(args.proto_dir, args.protoc)
    try:
        from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc  # noqa: E402

        failed = 0
        with grpc.insecure_channel(f"{args.host}:{args.port}") as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=CALL_TIMEOUT_S)
            except grpc.FutureTimeoutError:
                print(f"Cannot connect to {args.host}:{args.port}: not ready after {CALL_TIMEOUT_S} s", file=sys.stderr)
                return 1
            cases = Cases(channel, messages_pb2, empty_pb2, test_pb2_grpc, (args.host, args.port))
            for name in selected:
                outcome = run_case(cases, name)
                if outcome is None:
                    print(f"PASS {name}", flush=True)
                else:
                    failed += 1
                    print(f"FAIL {name}: {outcome}", flush=True)
        return 1 if failed else 0
    finally:
        shutil.rmtree(stubs, ignore_errors=True)


def run_case(cases, name):
    """Runs one case in a thread with an overall bound; returns None or a failure reason."""
    outcome = ["did not finish within 60 s"]

    def target():
        try:
            getattr(cases, name)()
            outcome[0] = None
        except CaseFailure as err:
            outcome[0] = str(err)
        except grpc.RpcError as err:
            outcome[0] = f"unexpected status {err.code()}: {err.details()!r}"
        except Exception as err:  # a bug in the case itself
            outcome[0] = f"{type(err).__name__}: {err} ({traceback.format_exc(limit=3)!r})"

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(60)
    return outcome[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
