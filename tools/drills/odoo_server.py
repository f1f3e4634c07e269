"""An Odoo 19 server with prefork workers, started and stopped by a drill, plus its database.

Only loopback: the server listens on the configuration's ``http_interface``
(127.0.0.1 in the drills' configuration) and every request goes there.
"""

import configparser
import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
import requests
from odoo_command import odoo_command  # tools/ is on sys.path (fault_drills.py)
from pg_env import pg_dsn

HEALTH = "/usage_billing/v1/health"
RESULT_MARK = "DRILL-RESULT "


def data_dir(conf):
    """The filestore's parent of the Odoo configuration ``conf`` (Odoo's default if unset)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf)
    return parser.get("options", "data_dir", fallback=str(Path.home() / ".local/share/Odoo"))


def query(dsn, sql, params=None):
    """Rows of one statement in its own autocommit connection."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall() if cr.description else []
    finally:
        conn.close()


class OdooServer:
    """``odoo-bin server`` with ``--workers`` (HTTP), one cron worker and queue_job's runner."""

    def __init__(
        self,
        conf,
        db,
        http_port,
        *,
        pg_port,
        workers=2,
        log=None,
        job_runner=True,
        cron_threads=1,
        env=None,
    ):
        self.conf, self.db, self.http_port, self.pg_port = conf, db, http_port, pg_port
        self.data_dir, self.workers = Path(data_dir(conf)), workers
        # queue_job's runner runs where queue_job is loaded server-wide: one node only.
        self.load = "base,rpc,web,queue_job" if job_runner else "base,rpc,web"
        self.cron_threads, self.env = cron_threads, env
        self.log = Path(log or f"/tmp/odoo-drill-{db}.log")
        self.url = f"http://127.0.0.1:{http_port}"
        self.dsn = pg_dsn(db, pg_port)
        self.process = None
        self.restarts = []  # (seconds since start, exit code) of each supervisor restart
        self._stopping = threading.Event()

    # -- database

    def recreate_database(self, template):
        """A fresh copy of ``template`` (and its filestore): every drill starts the same."""
        for old in (self.log, Path(f"{self.log}.stderr")):
            old.unlink(missing_ok=True)  # the log tells about this run only
        admin = pg_dsn("postgres", self.pg_port)
        query(admin, f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        query(admin, f'CREATE DATABASE "{self.db}" TEMPLATE "{template}"')
        source = self.data_dir / "filestore" / template
        target = self.data_dir / "filestore" / self.db
        shutil.rmtree(target, ignore_errors=True)
        if source.exists():
            shutil.copytree(source, target)

    def sql(self, statement, params=None):
        return query(self.dsn, statement, params)

    # -- lifecycle

    def start(self, timeout=120):
        self._stopping.clear()
        self._launch()
        self.wait_healthy(timeout)
        self._started = time.monotonic()
        threading.Thread(target=self._supervise, daemon=True).start()
        return self

    def _launch(self):
        command = [
            *odoo_command(), "server", "-c", self.conf, "-d", self.db,
            f"--workers={self.workers}", f"--max-cron-threads={self.cron_threads}",
            f"--load={self.load}", f"--http-port={self.http_port}",
            f"--gevent-port={self.http_port + 1}", f"--logfile={self.log}",
        ]  # fmt: skip
        # Tracebacks of a start that fails before logging is set up go next to the log.
        with open(f"{self.log}.stderr", "ab") as stderr:
            env = {**os.environ, **(self.env or {})}
            self.process = subprocess.Popen(command, start_new_session=True, stderr=stderr, env=env)

    def _supervise(self):
        """Start Odoo again when it exits by itself, as ``restart: unless-stopped`` would."""
        while not self._stopping.wait(0.5):
            process = self.process
            if process is not None and process.poll() is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
                self.restarts.append((round(time.monotonic() - self._started), process.returncode))
                self._launch()

    def wait_healthy(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo exited with {self.process.returncode}; see {self.log}")
            try:
                if requests.get(self.url + HEALTH, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Odoo not healthy after {timeout} s; see {self.log}")

    def stop(self):
        """SIGTERM to the master (graceful), SIGKILL to the group after 30 s."""
        self._stopping.set()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- processes

    def children(self):
        """PIDs of the master's children (HTTP, cron, job runner and gevent workers)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def serving_pids(self):
        """Children holding an established connection on the HTTP port: mid-request workers."""
        out = subprocess.run(
            ["ss", "-Htnp", "state", "established", f"( sport = :{self.http_port} )"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        children = set(self.children())
        pids = {
            int(part.split("=", 1)[1].rstrip(")"))
            for line in out.splitlines()
            for part in line.replace(",", " ").split()
            if part.startswith("pid=")
        }
        return sorted(pids & children)

    def log_lines(self, text):
        """Lines of this drill's Odoo log that contain ``text``."""
        if not self.log.exists():
            return []
        with self.log.open(errors="replace") as stream:
            return [line.rstrip() for line in stream if text in line]

    def log_count(self, text):
        return len(self.log_lines(text))

    # -- code inside Odoo

    def shell(self, code, timeout=600):
        """Run ``code`` in ``odoo-bin shell`` (``env`` is there; commit yourself).

        The code reports with ``report(value)``; the value comes back JSON-decoded.
        """
        prelude = (
            "import json as _json\n"
            f"def report(value):\n    print({RESULT_MARK!r} + _json.dumps(value, default=str))\n"
        )
        done = subprocess.run(
            [*odoo_command(), "shell", "-c", self.conf, "-d", self.db, "--no-http",
             "--log-level=warn"],
            input=prelude + code,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )  # fmt: skip
        for line in reversed(done.stdout.splitlines()):
            if line.startswith(RESULT_MARK):
                return json.loads(line[len(RESULT_MARK) :])
        raise RuntimeError(f"odoo shell failed ({done.returncode}): {done.stderr[-2000:]}")
