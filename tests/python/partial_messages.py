#!/usr/bin/python3
"""A client that sends message prefixes declaring large lengths, then the
bodies, on many streams of one connection, never finishing a message, as
fast as HTTP/2 flow control lets it (the h2 library keeps the windows).

  partial_messages.py partial PORT STREAMS DECLARED_BYTES CAP_BYTES

Prints ONE JSON line: how many body bytes went out before the server's
windows stopped it (no progress for 2 s), or the cap was reached.
"""

import json
import select
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events


def main():
    port, streams, declared, cap = (int(a) for a in sys.argv[2:6])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    remaining = {}
    for _ in range(streams):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [
            (":method", "POST"), (":scheme", "http"), (":path", "/e2e.Test/Chat"),
            (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers"),
        ])
        remaining[sid] = declared  # body bytes still to send; one short of the message
        conn.send_data(sid, b"\x00" + struct.pack(">I", declared + 1))
    sock.sendall(conn.data_to_send())
    sent = 0
    ended = set()
    statuses = {}
    last_progress = time.monotonic()
    closed = False
    t0 = time.monotonic()
    while sent < cap and time.monotonic() - last_progress < 2 and time.monotonic() - t0 < 30:
        progressed = False
        for sid, left in remaining.items():
            if left == 0 or sent >= cap:
                continue
            try:
                window = conn.local_flow_control_window(sid)
            except Exception:  # the stream was reset
                remaining[sid] = 0
                continue
            n = min(window, conn.max_outbound_frame_size, left, cap - sent)
            if n <= 0:
                continue
            try:
                conn.send_data(sid, b"x" * n)
            except Exception:  # the server ended the stream
                remaining[sid] = 0
                continue
            remaining[sid] -= n
            sent += n
            progressed = True
        try:
            sock.sendall(conn.data_to_send())
        except OSError:
            closed = True
            break
        if progressed:
            last_progress = time.monotonic()
        ready, _, _ = select.select([sock], [], [], 0 if progressed else 0.05)
        if ready:
            data = sock.recv(65536)
            if not data:
                closed = True
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ConnectionTerminated):
                    closed = True
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    ended.add(event.stream_id)
                elif isinstance(event, h2.events.TrailersReceived):
                    status = dict((k.decode(), v.decode()) for k, v in event.headers).get("grpc-status")
                    statuses[status] = statuses.get(status, 0) + 1
                elif isinstance(event, h2.events.ResponseReceived):
                    fields = dict((k.decode(), v.decode()) for k, v in event.headers)
                    if "grpc-status" in fields:  # Trailers-Only
                        statuses[fields["grpc-status"]] = statuses.get(fields["grpc-status"], 0) + 1
            sock.sendall(conn.data_to_send())
        if closed:
            break
    print(json.dumps({
        "sent": sent, "capped": sent >= cap, "closed": closed, "ended": len(ended),
        "statuses": statuses,
        "elapsed_ms": round((time.monotonic() - t0) * 1000),
    }), flush=True)
    sock.close()


if __name__ == "__main__":
    main()
