#!/usr/bin/env python3
"""Send one PING to agent-gtw over CurveZMQ and print the reply (docs/PROTOCOL.md).

Needs only the standard library and pyzmq built with CURVE (Debian: python3-zmq).

usage: pyzmq_ping.py ENDPOINT SERVER_PUBLIC_KEY_FILE CLIENT_CERT_FILE
  ENDPOINT                tcp://gateway-host:5555
  SERVER_PUBLIC_KEY_FILE  the gateway's public certificate, e.g. keys/gtw.key
  CLIENT_CERT_FILE        this client's secret certificate, e.g. keys/inf.key_secret
                          (its public key must be in the gateway's authorized_clients)
"""

import json
import sys
import time
import uuid

import zmq
import zmq.auth

TIMEOUT_MS = 5000


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint, server_key_file, client_cert_file = argv[1:]
    server_public, _ = zmq.auth.load_certificate(server_key_file)
    client_public, client_secret = zmq.auth.load_certificate(client_cert_file)
    if client_secret is None:
        print(f"{client_cert_file} has no secret key; pass the .key_secret file", file=sys.stderr)
        return 2

    socket = zmq.Context.instance().socket(zmq.DEALER)
    socket.curve_publickey = client_public
    socket.curve_secretkey = client_secret
    socket.curve_serverkey = server_public  # pins the gateway: any other key fails the handshake
    socket.linger = 0
    socket.connect(endpoint)

    # One frame of UTF-8 JSON, no empty delimiter frame (DEALER adds none).
    request = {"v": 1, "id": uuid.uuid4().hex, "action": "PING", "ts": int(time.time() * 1000)}
    socket.send(json.dumps(request, separators=(",", ":")).encode())

    # CURVE refusals are silent on the client side: an unknown client key just never gets a reply.
    if not socket.poll(TIMEOUT_MS, zmq.POLLIN):
        print(f"no reply within {TIMEOUT_MS} ms (wrong server key, client key not "
              "authorized, or gateway down)", file=sys.stderr)
        return 1
    reply = json.loads(socket.recv())
    if reply.get("id") != request["id"]:
        print(f"reply for another request: {reply}", file=sys.stderr)
        return 1
    print(json.dumps(reply, indent=2))
    return 0 if reply.get("status") == "OK" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
