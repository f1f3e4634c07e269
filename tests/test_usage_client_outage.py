"""The reference client during a database outage: Odoo answers 404 without its database.

Found by the PostgreSQL-restart drill (``tools/fault_drills.py pg``): while
PostgreSQL restarts, Odoo logs "Database or registry unusable, trying without"
and serves the request without a database, where the API's route does not
exist: an HTML 404.  That 404 says nothing about the batch; the API itself never
answers 404 (every answer of the API is a JSON ``{"error": ...}``).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import usage_client

ODOO_404 = b"<!DOCTYPE html><html><title>404 | Page not found</title></html>"
ACCEPTED = {"request_id": "r", "accepted": 1, "duplicates": 0, "quarantined": 0, "rejected": 0}


class Script(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answers):
        super().__init__(("127.0.0.1", 0), Answer)
        self.answers, self.requests = list(answers), 0


class Answer(BaseHTTPRequestHandler):
    def log_message(self, *args):
        """Quiet."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests += 1
        status, content_type, body = self.server.answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def serve():
    servers = []

    def start(*answers):
        server = Script(answers)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client_for(server, sleeps):
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return usage_client.UsageClient(url, "k", "s", sleep=sleeps.append, max_retries=3)


EVENT = {"event_id": "e", "tenant": "t", "metric": "m", "quantity": 1, "timestamp": "x"}


def test_an_html_404_while_odoo_has_no_database_is_retried(serve):
    sleeps = []
    server = serve(
        (404, "text/html; charset=utf-8", ODOO_404),
        (200, "application/json", json.dumps({**ACCEPTED, "results": []}).encode()),
    )
    summary = client_for(server, sleeps).send([EVENT])
    assert (summary.accepted, summary.failed_batches, summary.retries) == (1, 0, 1)
    assert server.requests == 2 and len(sleeps) == 1


def test_a_404_that_never_ends_still_gives_up(serve):
    sleeps = []
    server = serve(*[(404, "text/html", ODOO_404)] * 4)
    summary = client_for(server, sleeps).send([EVENT])
    assert summary.failed_batches == 1 and summary.errors[0]["status"] == 404
    assert server.requests == 4


def test_an_answer_of_the_api_itself_stays_permanent(serve):
    sleeps = []
    error = json.dumps({"error": {"code": "invalid_request", "message": "no"}}).encode()
    server = serve((400, "application/json", error))
    summary = client_for(server, sleeps).send([EVENT])
    assert summary.failed_batches == 1 and server.requests == 1 and not sleeps
