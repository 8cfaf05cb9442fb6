#!/usr/bin/python3
"""A gRPC client that starts a server-streaming call and never reads.

  stalled_reader.py PORT PATH REQUEST_HEX SECONDS

Speaks HTTP/2 with python3-h2 over a socket with a tiny receive buffer,
sends one request message on PATH, then sleeps without reading, so the
server's flow-control window closes and everything it writes must wait.
"""

import socket
import struct
import sys
import time

import h2.config
import h2.connection


def main():
    port, path, request_hex, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    message = bytes.fromhex(request_hex)
    body = b"\x00" + struct.pack(">I", len(message)) + message
    sock = socket.create_connection(("127.0.0.1", int(port)))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(stream_id, [
        (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
        ("content-type", "application/grpc"), ("te", "trailers"),
    ])
    conn.send_data(stream_id, body, end_stream=True)
    sock.sendall(conn.data_to_send())
    print("sent", flush=True)
    time.sleep(seconds)
    sock.close()


if __name__ == "__main__":
    main()
