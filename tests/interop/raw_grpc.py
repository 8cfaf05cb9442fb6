"""One gRPC call on raw HTTP/2 (python3-h2), for what grpcio does not expose.

The interop compression cases need to send some request messages compressed
and others not on one stream, and to see whether each response message came
compressed; grpcio's Python API does neither. This sends each message with
the flag asked for (gzip), advertises gzip, and returns every response
message with its flag, inflated.
"""

import gzip
import socket
import struct

import h2.config
import h2.connection
import h2.events
import h2.exceptions


def call(host, port, path, messages, timeout_s=10.0):
    """Sends `messages` [(bytes, compress)] on `path`; returns (grpc-status, grpc-message, [(compressed, bytes)])."""
    sock = socket.create_connection((host, port), timeout=timeout_s)
    try:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, [
            (":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", f"{host}:{port}"), ("content-type", "application/grpc"),
            ("te", "trailers"), ("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip"),
            ("grpc-timeout", f"{int(timeout_s)}S"),
        ])
        body = b"".join(_frame(message, compress) for message, compress in messages)
        inbound = bytearray()
        fields = {}
        ended = False
        half_closed = False
        while not ended:
            while body and not ended:
                n = min(conn.local_flow_control_window(stream), conn.max_outbound_frame_size, len(body))
                if n <= 0:
                    break
                conn.send_data(stream, body[:n])
                body = body[n:]
            if not body and not half_closed:
                half_closed = True
                try:
                    conn.end_stream(stream)
                except h2.exceptions.StreamClosedError:
                    pass  # the server ended the call first
            sock.sendall(conn.data_to_send())
            data = sock.recv(65536)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    inbound += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                    for key, value in event.headers:
                        fields[_text(key)] = _text(value)
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    ended = True
            sock.sendall(conn.data_to_send())
        status = int(fields.get("grpc-status", "-1"))
        return status, fields.get("grpc-message", ""), _messages(bytes(inbound))
    finally:
        sock.close()


def _frame(message, compress):
    payload = gzip.compress(message) if compress else message
    return struct.pack(">BI", 1 if compress else 0, len(payload)) + payload


def _messages(data):
    out = []
    while len(data) >= 5:
        flag, length = struct.unpack(">BI", data[:5])
        payload, data = data[5:5 + length], data[5 + length:]
        out.append((flag == 1, gzip.decompress(payload) if flag == 1 else payload))
    return out


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
