"""A second real libzmq peer for interop tests: Debian python3-zmq (libzmq 4.3.4), run with
/usr/bin/python3. It speaks the same JSON-lines protocol as libzmq-peer.mjs (see libzmq.ts), so
one harness drives both builds. Stdlib + zmq only; binds or connects only to what the test gives
it (127.0.0.1).

argv[1]: JSON config, the subset of libzmq-peer.mjs's that the tests use with pyzmq:
  { type: "dealer"|"router"|"req"|"rep", bind?, connect?,
    curve?: { server?: true, publicKey, secretKey, serverKey? }   (Z85 strings)
    zap?: { allow: [Z85 client keys] }   (denied keys get 400 from zmq.auth's authenticator)
    routingId?, heartbeat?: { interval, ttl, timeout }, handshakeInterval?, reconnectInterval?,
    maxMessageSize?, echo?: true }
stdin : {"op":"send","parts":[base64...]} | {"op":"burst","count","prefix","head"?} | {"op":"close"}
stdout: the same records as libzmq-peer.mjs; monitor events use zeromq.js's names.
"""

import base64
import json
import os
import sys
import threading

import zmq
import zmq.auth.thread
from zmq.utils.monitor import recv_monitor_message

_out_lock = threading.Lock()


def out(record):
    line = json.dumps(record) + "\n"
    with _out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


# Monitor event → the zeromq.js event name the TS harness already understands.
EVENT_NAMES = {
    zmq.EVENT_CONNECTED: "connect",
    zmq.EVENT_CONNECT_DELAYED: "connect:delay",
    zmq.EVENT_CONNECT_RETRIED: "connect:retry",
    zmq.EVENT_LISTENING: "bind",
    zmq.EVENT_ACCEPTED: "accept",
    zmq.EVENT_CLOSED: "close",
    zmq.EVENT_DISCONNECTED: "disconnect",
    zmq.EVENT_HANDSHAKE_SUCCEEDED: "handshake",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "handshake:error:other",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "handshake:error:protocol",
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "handshake:error:auth",
}

# zmq.PROTOCOL_ERROR_ZMTP_X → "ERR_ZMTP_X", the spelling zeromq.js reports
PROTOCOL_ERRORS = {
    getattr(zmq, name): "ERR_" + name[len("PROTOCOL_ERROR_"):]
    for name in dir(zmq)
    if name.startswith("PROTOCOL_ERROR_") and isinstance(getattr(zmq, name), int)
}


class AllowList:
    """zmq.auth credentials provider: a fixed list of Z85 client keys; others get 400."""

    def __init__(self, allowed):
        self.allowed = set(allowed)

    def callback(self, domain, key):
        text = key.decode("ascii") if isinstance(key, bytes) else key
        ok = text in self.allowed
        out({"ev": "zap", "key": text, "status": 200 if ok else 400})
        return ok


def main():
    config = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
    kinds = {"dealer": zmq.DEALER, "router": zmq.ROUTER, "req": zmq.REQ, "rep": zmq.REP}
    if config.get("type") not in kinds:
        out({"ev": "error", "message": "unknown socket type %r" % config.get("type")})
        return 2

    context = zmq.Context()
    authenticator = None
    if "zap" in config:
        # The authenticator binds inproc://zeromq.zap.01 in this context (RFC 27)
        authenticator = zmq.auth.thread.ThreadAuthenticator(context)
        authenticator.start()
        provider = AllowList(config["zap"].get("allow", []))
        for domain in ("*", "interop"):
            authenticator.configure_curve_callback(domain=domain, credentials_provider=provider)

    socket = context.socket(kinds[config["type"]])
    socket.linger = 0
    curve = config.get("curve")
    if curve:
        socket.curve_publickey = curve["publicKey"].encode("ascii")
        socket.curve_secretkey = curve["secretKey"].encode("ascii")
        if curve.get("server"):
            socket.curve_server = True
        if curve.get("serverKey"):
            socket.curve_serverkey = curve["serverKey"].encode("ascii")
    if "zap" in config:
        socket.zap_domain = b"interop"
    if config.get("routingId"):
        socket.setsockopt(zmq.ROUTING_ID, config["routingId"].encode("utf-8"))
    heartbeat = config.get("heartbeat") or {}
    if heartbeat.get("interval"):
        socket.setsockopt(zmq.HEARTBEAT_IVL, heartbeat["interval"])
    if heartbeat.get("ttl"):
        socket.setsockopt(zmq.HEARTBEAT_TTL, heartbeat["ttl"])
    if heartbeat.get("timeout"):
        socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, heartbeat["timeout"])
    if config.get("handshakeInterval"):
        socket.setsockopt(zmq.HANDSHAKE_IVL, config["handshakeInterval"])
    if config.get("reconnectInterval"):
        socket.setsockopt(zmq.RECONNECT_IVL, config["reconnectInterval"])
    if config.get("maxMessageSize"):
        socket.setsockopt(zmq.MAXMSGSIZE, config["maxMessageSize"])

    monitor = socket.get_monitor_socket()

    if config.get("bind"):
        socket.bind(config["bind"])
        endpoint = socket.getsockopt(zmq.LAST_ENDPOINT).decode("ascii")
    else:
        socket.connect(config["connect"])
        endpoint = config["connect"]
    out({"ev": "ready", "endpoint": endpoint, "pid": os.getpid()})

    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    poller.register(monitor, zmq.POLLIN)
    stdin = sys.stdin.fileno()
    poller.register(stdin, zmq.POLLIN)
    pending = b""
    running = True
    while running:
        for item, _ in poller.poll(1000):
            if item is socket:
                frames = socket.recv_multipart()
                out({"ev": "message", "parts": [b64(frame) for frame in frames]})
                if config.get("echo"):
                    socket.send_multipart(frames)
            elif item is monitor:
                report_monitor_event(recv_monitor_message(monitor))
            else:
                chunk = os.read(stdin, 65536)
                if not chunk:
                    running = False
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip() and not handle_command(socket, line):
                        running = False
                        break

    poller.unregister(monitor)
    socket.disable_monitor()
    monitor.close(0)
    socket.close(0)
    if authenticator is not None:
        authenticator.stop()
    context.term()
    return 0


def report_monitor_event(message):
    name = EVENT_NAMES.get(message["event"])
    if name is None:
        return
    endpoint = message.get("endpoint", b"")
    record = {
        "ev": "socket",
        "type": name,
        "address": endpoint.decode("ascii", "replace") if isinstance(endpoint, bytes) else endpoint,
    }
    value = message.get("value")
    if name == "connect:retry":
        record["interval"] = value
    elif name == "handshake:error:auth":
        record["error"] = {"status": value}
    elif name == "handshake:error:protocol":
        record["error"] = {"code": PROTOCOL_ERRORS.get(value, value)}
    elif name == "handshake:error:other":
        record["error"] = {"code": value}
    out(record)


def handle_command(socket, line):
    """Returns False when the peer should stop."""
    try:
        command = json.loads(line)
    except ValueError:
        out({"ev": "error", "message": "bad command line"})
        return True
    op = command.get("op")
    try:
        if op == "send":
            socket.send_multipart([base64.b64decode(part) for part in command["parts"]])
            out({"ev": "sent"})
        elif op == "burst":
            head = [base64.b64decode(part) for part in command.get("head", [])]
            for i in range(command["count"]):
                body = ("%s%d" % (command["prefix"], i)).encode("utf-8")
                socket.send_multipart(head + [body])
            out({"ev": "burst-done", "count": command["count"]})
        elif op == "close":
            return False
    except zmq.ZMQError as error:
        out({"ev": "error", "message": "%s: %s" % (op, error)})
    return True


if __name__ == "__main__":
    sys.exit(main())
