"""A local product platform receiving our webhooks: verifies signatures, dedupes on ``id``.

Plain Python (a ``ThreadingHTTPServer`` on 127.0.0.1): the Odoo tests send it
real HTTP.  ``fail_next(n, status)`` makes the next ``n`` requests fail
("receiver down") so retries, dead letters and replays can be observed.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..core import signing
from ..core.webhook_events import SIGNATURE_HEADER


class WebhookReceiver:
    def __init__(self, secret):
        self.secret = secret
        self.lock = threading.Lock()
        self.reset()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._handle(self.headers.get(SIGNATURE_HEADER), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/usage"

    def reset(self):
        with self.lock:
            self.accepted = {}  # id -> event, first verified delivery
            self.duplicates = []  # ids received again after being accepted
            self.refused = []  # (status, id or None)
            self._failures = []

    def fail_next(self, count, status=503):
        with self.lock:
            self._failures = [status] * count

    def _handle(self, header, body):
        try:
            signing.verify(header, body, [self.secret], now=time.time(), tolerance=300)
            event = json.loads(body)
        except (signing.SignatureError, ValueError):
            with self.lock:
                self.refused.append((401, None))
            return 401
        with self.lock:
            if self._failures:
                status = self._failures.pop(0)
                self.refused.append((status, event.get("id")))
                return status
            if event["id"] in self.accepted:
                self.duplicates.append(event["id"])
            else:
                self.accepted[event["id"]] = event
        return 200

    def types(self):
        with self.lock:
            return [event["type"] for event in self.accepted.values()]

    def of_type(self, event_type):
        with self.lock:
            return [e for e in self.accepted.values() if e["type"] == event_type]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
