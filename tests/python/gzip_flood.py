#!/usr/bin/python3
"""A flood of small gzip requests that inflate to megabytes.

  gzip_flood.py flood PORT CONNECTIONS CONCURRENCY PADDING_BYTES SECONDS

The request is an e2e.BatchRequest whose `padding` (field 4) holds
PADDING_BYTES zeros; it is gzipped once here
and the same compressed bytes are sent as fast as the server answers, on
CONNECTIONS connections with up to CONCURRENCY calls open on each, to
/e2e.Test/Batch with grpc-encoding gzip, for SECONDS. Prints
{"ready": true} when it starts and at the end one JSON line: calls
answered per grpc-status, and the compressed and inflated sizes.
"""

import gzip
import json
import socket
import struct
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions


def flood(port, concurrency, body, stop_at, codes, lock):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(0.2)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    open_streams = set()

    def start():
        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(stream_id, [
            (":method", "POST"), (":scheme", "http"), (":path", "/e2e.Test/Batch"),
            (":authority", "localhost"), ("content-type", "application/grpc"),
            ("te", "trailers"), ("grpc-encoding", "gzip"), ("grpc-timeout", "5S"),
        ])
        conn.send_data(stream_id, body, end_stream=True)
        open_streams.add(stream_id)

    try:
        while time.monotonic() < stop_at:
            while len(open_streams) < concurrency and conn.outbound_flow_control_window > len(body):
                start()
            sock.sendall(conn.data_to_send())
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if isinstance(event, (h2.events.TrailersReceived, h2.events.ResponseReceived)):
                    fields = {(k.decode() if isinstance(k, bytes) else k):
                              (v.decode() if isinstance(v, bytes) else v) for k, v in event.headers}
                    status = fields.get("grpc-status")
                    if status is not None:
                        with lock:
                            codes[status] = codes.get(status, 0) + 1
                            if status != "0":
                                codes.setdefault("message " + status, fields.get("grpc-message"))
                if isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    open_streams.discard(event.stream_id)
    except (OSError, h2.exceptions.ProtocolError):
        pass
    finally:
        sock.close()


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def main():
    # argv[1] names the case (tests/_h2_probe.ts passes one); there is only one.
    port, connections, concurrency = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    padding, seconds = int(sys.argv[5]), float(sys.argv[6])
    message = b"\x22" + varint(padding) + bytes(padding)
    compressed = gzip.compress(message)
    body = b"\x01" + struct.pack(">I", len(compressed)) + compressed
    codes, lock = {}, threading.Lock()
    stop_at = time.monotonic() + seconds
    print(json.dumps({"ready": True}), flush=True)
    threads = [threading.Thread(target=flood, args=(port, concurrency, body, stop_at, codes, lock))
               for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"codes": codes, "compressed": len(compressed), "inflated": len(message)}),
          flush=True)


if __name__ == "__main__":
    main()
