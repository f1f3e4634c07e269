#!/usr/bin/env python3
"""The fake CRM server (crm_sync_connector/tests) as a process of its own, on a fixed port.

The CRM drill stops this process for minutes and starts it again: the port must
stay the same (it is the backend's URL) and what the CRM received must survive
the restart, so every webhook delivery it accepts is appended to a journal, one
JSON line each (``Idempotency-Key``, the event, when).  Runs until SIGTERM::

    python3 tools/drills/fake_crm_process.py --port 8499 --journal /tmp/crm.jsonl
"""

import argparse
import importlib.util
import json
import signal
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path


def load_module():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import addon_packages  # noqa: PLC0415

    addon_packages.register()
    return importlib.import_module("crm_sync_connector.tests.fake_crm_server")


fake = load_module()


class JournalingCrm(fake.FakeCrmServer):
    """The fake CRM on a given port, journaling the webhook events it accepts."""

    def __init__(self, port, journal, **options):
        super().__init__(**options)
        self.port, self.journal = port, Path(journal)

    def start(self):
        # The parent binds port 0 (any free port); a drill needs the same port again.
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer((self.host, self.port), fake._Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def _webhook(self, record):
        reply = super()._webhook(record)
        if reply.status == 200:
            line = {
                "idempotency_key": record.header("Idempotency-Key"),
                "event": json.loads(record.body),
                "received_at": time.time(),
            }
            with self._lock, self.journal.open("a") as stream:
                stream.write(json.dumps(line) + "\n")
        return reply


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--journal", required=True, help="JSON lines file, appended to")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with JournalingCrm(args.port, args.journal) as crm:
        print(f"fake CRM listening on {crm.webhook_url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
