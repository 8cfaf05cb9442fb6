#!/usr/bin/python3
"""A grpcio load generator for the tracing tests: unary helloworld.Greeter/SayHello.

  trace_load.py PORT --calls N [--concurrency C] [--timeout-ms T] [--max-seconds S]

Makes N unary SayHello calls on ONE channel with at most C in flight at once
(grpc futures, a semaphore keeps the window full), each with a deadline of T
ms. The request is the raw bytes of HelloRequest{name: "Ada"}; a reply counts
as ok only when its status is OK and its bytes mention "Ada". No new call
starts after S seconds (the run is bounded even against a stuck server:
calls already started end by their deadline), so `calls` may then be below N.

Prints ONE JSON line:
  {"calls": started, "ok": N, "errors": N, "codes": {"OK": N, "UNAVAILABLE": N, ...},
   "bad_replies": N, "p50_ms": x, "p99_ms": x, "max_ms": x, "seconds": x}
Latencies are per call, from its start to its completion callback, over all
calls (failed ones too). Exits 0 whenever it could run; the test judges.
"""

import argparse
import json
import sys
import threading
import time

import grpc

METHOD = "/helloworld.Greeter/SayHello"
REQUEST = b"\n\x03Ada"  # HelloRequest{name: "Ada"}


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout-ms", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()

    channel = grpc.insecure_channel(f"127.0.0.1:{args.port}")
    # Connected before the clock starts, so the first calls do not pay for it.
    grpc.channel_ready_future(channel).result(timeout=10)
    say_hello = channel.unary_unary(METHOD)  # bytes in, bytes out

    window = threading.Semaphore(args.concurrency)
    lock = threading.Lock()
    all_done = threading.Event()
    latencies = []
    codes = {}
    counts = {"ok": 0, "errors": 0, "bad_replies": 0, "started": 0, "finished": 0}
    issuing = [True]

    def finished(future, started_at):
        elapsed_ms = (time.perf_counter() - started_at) * 1000
        code = future.code()
        good = False
        if code == grpc.StatusCode.OK:
            good = b"Ada" in future.result()
        with lock:
            latencies.append(elapsed_ms)
            codes[code.name] = codes.get(code.name, 0) + 1
            if good:
                counts["ok"] += 1
            else:
                counts["errors"] += 1
                if code == grpc.StatusCode.OK:
                    counts["bad_replies"] += 1
            counts["finished"] += 1
            if not issuing[0] and counts["finished"] == counts["started"]:
                all_done.set()
        window.release()

    began = time.perf_counter()
    stop_at = began + args.max_seconds
    timeout_s = args.timeout_ms / 1000
    for _ in range(args.calls):
        # Waits for a free slot, but never past the run's bound.
        if not window.acquire(timeout=max(0.0, stop_at - time.perf_counter())):
            break
        if time.perf_counter() >= stop_at:
            window.release()
            break
        started_at = time.perf_counter()
        with lock:
            counts["started"] += 1
        future = say_hello.future(REQUEST, timeout=timeout_s)
        future.add_done_callback(lambda f, t=started_at: finished(f, t))
    with lock:
        issuing[0] = False
        if counts["finished"] == counts["started"]:
            all_done.set()
    # Every started call ends by its own deadline; a little slack on top.
    all_done.wait(timeout_s + 5)
    seconds = time.perf_counter() - began
    channel.close()

    with lock:
        ordered = sorted(latencies)
        result = {
            "calls": counts["started"],
            "ok": counts["ok"],
            "errors": counts["errors"] + (counts["started"] - counts["finished"]),
            "codes": dict(sorted(codes.items())),
            "bad_replies": counts["bad_replies"],
            "p50_ms": round(percentile(ordered, 0.50), 3),
            "p99_ms": round(percentile(ordered, 0.99), 3),
            "max_ms": round(ordered[-1], 3) if ordered else 0.0,
            "seconds": round(seconds, 3),
        }
    print(json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
