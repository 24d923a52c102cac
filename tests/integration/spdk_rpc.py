#!/usr/bin/env python3
"""A JSON-RPC client shaped like SPDK's scripts/rpc.py, for nvmf-target's SPDK-compatible socket.

Written from rpc.py's documented behaviour (python/spdk/rpc/client.py, __init__.py), not
from its code: one Unix-socket connection per invocation, requests numbered from 1, the
response read until it decodes as one JSON value; save_config built from
framework_get_subsystems + framework_get_config, load_config replayed call by call after
checking each method against rpc_get_methods.

As a module: Client, RpcError, save_config, load_config (test_rpc_py.py).  As a command,
what a control plane does with rpc.py (the kernel test bed's tests/interop/guest/rpc.sh):
    spdk_rpc.py -s SOCK METHOD ['{"param": ...}']   prints the result as JSON
    spdk_rpc.py -s SOCK save_config                 the configuration, as rpc.py writes it
    spdk_rpc.py -s SOCK load_config < FILE
An RPC error exits 1 with "METHOD: MESSAGE (code N)" on stderr.
"""
import json
import socket
import sys


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(error.get("message"))
        self.code = error.get("code")


class Client:
    """Shaped like SPDK's JSONRPCClient: one socket, sequential ids, incremental decode."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.next_id = 0
        self.buf = ""

    def send(self, method, params=None):
        self.next_id += 1
        req = {"jsonrpc": "2.0", "method": method, "id": self.next_id}
        if params is not None:
            req["params"] = params
        self.sock.sendall(json.dumps(req).encode())
        return self.next_id

    def recv(self):
        decoder = json.JSONDecoder()
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    obj, end = decoder.raw_decode(text)
                    self.buf = text[end:]
                    return obj
                except ValueError:
                    pass
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("target closed the connection")
            self.buf += data.decode()

    def call(self, method, params=None):
        rid = self.send(method, params)
        resp = self.recv()
        assert resp.get("id") == rid, resp
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    def close(self):
        self.sock.close()


def save_config(c):
    """What rpc.py save_config does: the subsystems in order, each one's config."""
    cfg = {"subsystems": []}
    for s in c.call("framework_get_subsystems"):
        cfg["subsystems"].append({"subsystem": s["subsystem"],
                                  "config": c.call("framework_get_config",
                                                   {"name": s["subsystem"]})})
    return cfg


def load_config(c, cfg):
    """What rpc.py load_config does: check every method is known, then call them."""
    allowed = c.call("rpc_get_methods", {"include_aliases": False})
    subsystems = [s for s in cfg["subsystems"] if s["config"]]
    for s in subsystems:
        for elem in s["config"]:
            assert elem["method"] in allowed, elem["method"]
    allowed = c.call("rpc_get_methods", {"current": True})
    for s in subsystems:
        for elem in s["config"]:
            c.call(elem["method"], elem.get("params"))
    if "framework_start_init" in allowed:
        c.call("framework_start_init")



def main(argv):
    if len(argv) < 4 or argv[1] != "-s":
        sys.stderr.write("usage: spdk_rpc.py -s SOCK METHOD [PARAMS-JSON]\n")
        return 2
    c = Client(argv[2])
    method = argv[3]
    try:
        if method == "save_config":
            print(json.dumps(save_config(c), indent=2))
        elif method == "load_config":
            load_config(c, json.load(sys.stdin))
        else:
            params = json.loads(argv[4]) if len(argv) > 4 else None
            print(json.dumps(c.call(method, params), indent=2))
    except RpcError as e:
        sys.stderr.write("%s: %s (code %s)\n" % (method, e, e.code))
        return 1
    finally:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
