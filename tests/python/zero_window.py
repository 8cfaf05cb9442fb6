#!/usr/bin/python3
"""Clients that open many calls with a closed flow-control window and never read.

  zero_window.py hold PORT CONNECTIONS CALLS REQUEST_HEX SECONDS

Each of CONNECTIONS connections sets SETTINGS_INITIAL_WINDOW_SIZE=0 and
sends CALLS unary requests to /e2e.Test/Big (REQUEST_HEX is the message),
so no response DATA can reach it. It reads frames (HEADERS are not flow
controlled, so a call the server ends still shows its grpc-status) for
SECONDS, prints {"ready": true} once every request is sent, and at the end
one JSON line: how many calls ended with each grpc-status, and how many
are still open.
"""

import json
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings


def main():
    # argv[1] names the case (tests/_h2_probe.ts passes one); there is only one.
    port, connections, calls = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    message, seconds = bytes.fromhex(sys.argv[5]), float(sys.argv[6])
    body = b"\x00" + struct.pack(">I", len(message)) + message
    conns = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.local_settings = h2.settings.Settings(
            client=True,
            initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0,
                            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
        conn.initiate_connection()
        for _ in range(calls):
            stream_id = conn.get_next_available_stream_id()
            conn.send_headers(stream_id, [
                (":method", "POST"), (":scheme", "http"), (":path", "/e2e.Test/Big"),
                (":authority", "localhost"), ("content-type", "application/grpc"),
                ("te", "trailers"),
            ])
            conn.send_data(stream_id, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        sock.settimeout(0.05)
        conns.append((sock, conn))
    print(json.dumps({"ready": True}), flush=True)
    codes = {}
    ended = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for sock, conn in conns:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                continue
            for event in conn.receive_data(data):
                headers = getattr(event, "headers", None)
                if isinstance(event, (h2.events.TrailersReceived, h2.events.ResponseReceived)):
                    status = dict((k.decode() if isinstance(k, bytes) else k,
                                   v.decode() if isinstance(v, bytes) else v)
                                  for k, v in headers).get("grpc-status")
                    if status is not None:
                        codes[status] = codes.get(status, 0) + 1
                        ended += 1
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
    for sock, _ in conns:
        sock.close()
    print(json.dumps({"codes": codes, "open": connections * calls - ended}), flush=True)


if __name__ == "__main__":
    main()
