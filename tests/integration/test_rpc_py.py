#!/usr/bin/env python3
"""nvmf-target's JSON-RPC driven the way SPDK's scripts/rpc.py drives an SPDK target.

The client is spdk_rpc.py (rpc.py's documented behaviour).  A second target loaded with
what save_config wrote must show the same subsystems.  Prints TAP.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spdk_rpc import Client, RpcError, load_config, save_config  # noqa: E402

TARGET = os.environ.get("NVMF_TARGET", "build-san/src/tools/nvmf-target")
CLI = os.environ.get("NVMF_CLI")
NQN = "nqn.2016-06.io.spdk:cnode1"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(sock, extra=()):
    log = open(sock + ".log", "w")
    p = subprocess.Popen([TARGET, "-r", sock, "--cpus", "1", *extra], stdout=log,
                         stderr=subprocess.STDOUT)
    for _ in range(1000):
        if p.poll() is not None:
            raise RuntimeError("target exited: see " + sock + ".log")
        try:
            c = Client(sock)
            c.close()
            return p
        except OSError:
            time.sleep(0.01)
    p.kill()
    raise RuntimeError("target did not open its socket")


def stop(p):
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=30)


def main():
    results = []

    def check(name, cond):
        results.append((name, bool(cond)))

    tmp = tempfile.mkdtemp(prefix="nvmf-rpc-py-")
    sock_a, sock_b = os.path.join(tmp, "a.sock"), os.path.join(tmp, "b.sock")
    port = free_port()
    a = start(sock_a)
    b = None
    try:
        # one connection for several calls, as an rpc.py invocation with a batch file
        c = Client(sock_a)
        check("bdev_malloc_create returns the name",
              c.call("bdev_malloc_create", {"num_blocks": 2048, "block_size": 512,
                                            "name": "Malloc0"}) == "Malloc0")
        check("nvmf_create_transport returns true",
              c.call("nvmf_create_transport", {"trtype": "TCP"}) is True)
        c.call("nvmf_create_subsystem", {"nqn": NQN, "allow_any_host": True,
                                         "serial_number": "SPDK001"})
        check("nvmf_subsystem_add_ns returns the nsid",
              c.call("nvmf_subsystem_add_ns", {"nqn": NQN,
                                               "namespace": {"bdev_name": "Malloc0"}}) == 1)
        c.call("nvmf_subsystem_add_listener",
               {"nqn": NQN, "listen_address": {"trtype": "tcp", "adrfam": "ipv4",
                                               "traddr": "127.0.0.1",
                                               "trsvcid": str(port)}})
        c.call("nvmf_subsystem_add_host", {"nqn": NQN,
                                           "host": "nqn.2016-06.io.spdk:host1"})
        if CLI:
            # a host uses what rpc.py built: our nvmf CLI writes and reads it back
            data = bytes((i * 7 + 3) & 0xFF for i in range(8192))
            src, dst = os.path.join(tmp, "src"), os.path.join(tmp, "dst")
            with open(src, "wb") as f:
                f.write(data)
            conn = ["-t", "tcp", "-a", "127.0.0.1", "-s", str(port), "-n", NQN,
                    "-q", "nqn.2016-06.io.spdk:host9"]
            w = subprocess.run([CLI, "write", *conn, "--start-block=16", "-z", "8192",
                                "-d", src], capture_output=True, timeout=60)
            r = subprocess.run([CLI, "read", *conn, "--start-block=16", "-z", "8192",
                                "-d", dst], capture_output=True, timeout=60)
            with open(dst, "rb") as f:
                back = f.read()
            check("nvmf write/read through the RPC-built subsystem",
                  w.returncode == 0 and r.returncode == 0 and back == data)
        try:
            c.call("nvmf_subsystem_add_ns", {"nqn": NQN, "namespace": {"bdev_name": "x"}})
            check("missing bdev is an error", False)
        except RpcError as e:
            check("missing bdev is -32602", e.code == -32602)
        try:
            c.call("bdev_lvol_create", {"lvol_name": "x", "size_in_mib": 1})
            check("unknown method is an error", False)
        except RpcError as e:
            check("unknown method is -32601", e.code == -32601)
        subs = c.call("nvmf_get_subsystems")
        s = [x for x in subs if x["nqn"] == NQN][0]
        check("nvmf_get_subsystems shape",
              s["subtype"] == "NVMe" and s["listen_addresses"][0]["trtype"] == "TCP" and
              s["listen_addresses"][0]["trsvcid"] == str(port) and
              s["namespaces"][0]["bdev_name"] == "Malloc0" and
              s["hosts"][0]["nqn"] == "nqn.2016-06.io.spdk:host1")
        cfg = save_config(c)
        c.close()
        names = [x["subsystem"] for x in cfg["subsystems"]]
        check("save_config: bdev before nvmf", names == ["bdev", "nvmf"])
        # the same through the server's own save_config, on a connection of its own
        c = Client(sock_a)
        check("save_config method equals rpc.py's assembly", c.call("save_config") == cfg)
        c.close()
        stop(a)
        a = None

        # a fresh target configured by replaying it
        b = start(sock_b)
        c = Client(sock_b)
        load_config(c, cfg)
        subs_b = c.call("nvmf_get_subsystems")
        c.close()
        s_b = [x for x in subs_b if x["nqn"] == NQN][0]
        check("load_config restores the subsystem", s_b == s)
        # pipelined: two requests in one write, answers in order on the same connection
        c = Client(sock_b)
        c.sock.sendall(b'{"jsonrpc":"2.0","method":"spdk_get_version","id":7}'
                       b'{"jsonrpc":"2.0","method":"nvmf_get_transports","id":8}')
        r1, r2 = c.recv(), c.recv()
        c.close()
        check("pipelined requests answered in order",
              r1["id"] == 7 and r2["id"] == 8 and r2["result"][0]["trtype"] == "TCP")
        check("target b exits cleanly", stop(b) == 0)
        b = None
    finally:
        for p in (a, b):
            if p:
                p.kill()
                p.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)

    print("1..%d" % len(results))
    for i, (name, ok) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
