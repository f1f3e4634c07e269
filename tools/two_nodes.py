#!/usr/bin/env python3
"""Two Odoo nodes on one database under concurrent load (a test with real processes).

Starts two Odoo 19 servers on the same database, each with ``--workers 2``:
node A without queue_job's runner and without cron, node B with the runner
(loaded server-wide) and one cron thread; the runner dispatches the jobs to
node A's port, as it would to a load balancer, so jobs run on the other node.
A fake CRM (``drills/fake_crm_process.py``, journaling what it receives) is the
destination of a signed-webhook CRM backend.  Then, at the same time:

* ingestion: every batch of usage events (last month and this month) is sent
  twice, once to each node, by concurrent signed clients (duplicates across
  nodes);
* lifecycle events (``seats_changed``), also sent to both nodes: account
  updates go through the outbox to the CRM, delivered by queue_job;
* billing: the billing cron on node B enqueues one job per batch of due
  subscriptions (run on node A), while the "Run billing" button is called over
  JSON-RPC on both nodes for the same subscriptions.

When everything has settled, the database must show: every event id stored
once, exactly one statement per subscription and period, no event billed twice
and none lost (each accepted event of the closed period is billed by one line
or waits in a period marked for the late-usage check), no failed job, every CRM
message delivered exactly once and each tenant's last CRM update carrying its
final seats.  Prints the evidence and PASS/FAIL; exit status 0 on PASS.

Odoo-free at import (processes and HTTP only).  Example, on a database with both
addons and their demo data installed with the same configuration file::

    python3 tools/two_nodes.py --conf /work/dev/scale.conf --db two_nodes --template scale

``--db`` alone runs on that database (``tools/run_tests.py`` does so on its test
database once the Odoo tests have passed).
"""

import argparse
import itertools
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ingest
import usage_client
from drills import billing, crm, fake_crm_process
from drills.odoo_server import OdooServer

PREFIX = "twonodes-"
BACKEND = "Two nodes webhook"
DEMO_SECRET = "demo-secret-change-me"  # the demo API key's secret (demo data)

SETUP = """
env['ir.config_parameter'].set_param('usage_billing.billing_batch_size', {batch})
plan = env['usage.plan'].search([('code', '=', 'growth-monthly')], limit=1)
company = plan.company_id
env['crm.sync.backend'].create({{
    'name': '{backend}', 'backend_type': 'webhook', 'base_url': '{url}',
    'company_id': company.id, 'max_attempts': 20, 'rate_limit': 1000,
    'webhook_secret': '{secret}'}})
partners = env['res.partner'].create([{{'name': 'Two nodes %d' % i}} for i in range({count})])
tenants = env['usage.tenant'].create([
    {{'external_id': '{prefix}%03d' % i, 'partner_id': partner.id, 'company_id': company.id,
      'currency_id': plan.currency_id.id}}
    for i, partner in enumerate(partners)])
subs = env['usage.subscription'].create([
    {{'tenant_id': t.id, 'plan_id': plan.id, 'company_id': company.id, 'seats': 1,
      'start_date': '{anchor}', 'billing_anchor': '{anchor}'}} for t in tenants])
env.cr.commit()
report(subs.ids)
"""

CHECKS = {
    "event ids stored more than once": """
        SELECT count(*) FROM (SELECT 1 FROM usage_event_data WHERE event_id LIKE %(prefix)s
         GROUP BY company_id, event_id HAVING count(*) > 1) d""",
    "subscription periods with more than one statement": billing.CHECKS[
        "subscription periods with more than one statement"
    ],
    "subscriptions without a statement for last month": billing.CHECKS[
        "drill subscriptions without a statement for last month"
    ],
    "statements without lines": billing.CHECKS["statements without lines"],
    "events billed by more than one line": billing.CHECKS["events billed by more than one line"],
    # Usage accepted while its period was being billed is either in the statement
    # (its snapshot saw it) or trued up later: its period is marked for the check.
    "accepted events of last month neither billed nor waiting for the late check": """
        SELECT count(*) FROM usage_event_data e JOIN usage_tenant t ON t.id = e.tenant_id
         WHERE t.external_id LIKE %(prefix)s AND e.state = 'accepted'
           AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
           AND NOT EXISTS (
               SELECT 1 FROM usage_statement_line l
                 JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
                WHERE l.tenant_id = e.tenant_id AND l.metric_id = e.metric_id
                  AND e.occurred_at >= l.period_start AND e.occurred_at < l.period_end
                  AND usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_to))
           AND NOT EXISTS (
               SELECT 1 FROM usage_period_recheck r
                WHERE r.tenant_id = e.tenant_id AND r.period_start = %(start)s)""",
    "jobs failed": "SELECT count(*) FROM queue_job WHERE state = 'failed'",
    "CRM messages not delivered": """
        SELECT count(*) FROM crm_sync_message m JOIN crm_sync_backend b ON b.id = m.backend_id
         WHERE b.name = %(backend)s AND m.state != 'done'""",
}
OPEN_JOBS_SQL = "SELECT count(*) FROM queue_job WHERE state NOT IN ('done', 'failed', 'cancelled')"


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conf", required=True, help="Odoo config the database was made with")
    parser.add_argument("--db", required=True, help="database the two nodes serve")
    parser.add_argument("--template", help="installed database to copy into --db first")
    parser.add_argument("--ports", default="18169,18179", help="HTTP ports of A,B (+1: gevent)")
    parser.add_argument("--crm-port", type=int, default=18199)
    parser.add_argument("--pg-port", default=os.environ.get("PGPORT", "5432"))
    parser.add_argument("--tenants", type=int, default=24)
    parser.add_argument("--events-per-tenant", type=int, default=60)
    parser.add_argument("--batch", type=int, default=4, help="subscriptions per billing job")
    parser.add_argument("--key", default="demo-key")
    parser.add_argument("--timeout", type=float, default=300, help="longest wait to settle")
    return parser


def stamp(moment):
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def usage_events(tenants, per_tenant, start):
    """Events of last month (billed now) and of this month, for every tenant."""
    events = bench_ingest.make_events(len(tenants) * per_tenant, PREFIX)
    now = datetime.now(timezone.utc)
    for n, event in enumerate(events):
        event["tenant"] = tenants[n % len(tenants)]
        if n % 3:
            event["timestamp"] = stamp(start + timedelta(minutes=7 * n + 1))
        else:
            event["timestamp"] = stamp(now - timedelta(seconds=n + 60))
    return events


def seats_events(tenants, seats, round_number):
    now = stamp(datetime.now(timezone.utc))
    return [
        {
            "event_id": f"{PREFIX}seats-{round_number}-{tenant}",
            "tenant": tenant,
            "type": "seats_changed",
            "seats": seats[tenant],
            "effective_at": now,
        }
        for tenant in tenants
    ]


class Load:
    """Threads that send and call; collects their outcomes."""

    def __init__(self, options):
        self.options, self.lock, self.threads = options, threading.Lock(), []
        self.summaries, self.errors = [], []

    def spawn(self, target, *args):
        thread = threading.Thread(target=self._guard, args=(target, *args), daemon=True)
        self.threads.append(thread)
        thread.start()

    def _guard(self, target, *args):
        try:
            target(*args)
        except Exception as exc:  # a crashed thread is a failed run, with its reason
            with self.lock:
                self.errors.append(f"{target.__name__}: {type(exc).__name__}: {exc}")

    def join(self):
        for thread in self.threads:
            thread.join()

    def send(self, url, events, path=None, batch_size=100, seed=0):
        batches = [events[i : i + batch_size] for i in range(0, len(events), batch_size)]
        random.Random(seed).shuffle(batches)  # the two nodes see the batches in other orders
        client = usage_client.UsageClient(
            url, self.options.key, self.options.secret, batch_size=batch_size
        )
        if path:
            client.url = url + path
        with client:
            summary = client.send(itertools.chain.from_iterable(batches))
        with self.lock:
            self.summaries.append((path or "events", url, summary))

    def run_billing(self, url, db, sub_ids, seed):
        """The "Run billing" button, one subscription per call, over JSON-RPC."""
        order = list(sub_ids)
        random.Random(seed).shuffle(order)
        session = requests.Session()
        for sub_id in order:
            args = [db, 2, "admin", "usage.subscription", "action_run_billing", [[sub_id]]]
            params = {"service": "object", "method": "execute_kw", "args": args}
            answer = session.post(
                url + "/jsonrpc",
                json={"jsonrpc": "2.0", "method": "call", "params": params},
                timeout=120,
            ).json()
            if "error" in answer:
                data = answer["error"].get("data") or {}
                with self.lock:
                    self.errors.append(f"run billing {sub_id} on {url}: {data.get('message')}")


class ConnectionPeak(threading.Thread):
    """Largest number of PostgreSQL connections to the database seen, sampled every 0.2 s."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.peak, self.stopped = server, 0, threading.Event()

    def run(self):
        while not self.stopped.wait(0.2):
            count = self.server.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid != pg_backend_pid()"
            )[0][0]
            self.peak = max(self.peak, count)


def wait_settled(server, timeout):
    """Until no job is open and no CRM message is pending (checked twice, 3 s apart)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        jobs = server.sql(OPEN_JOBS_SQL)[0][0]
        pending = server.sql("SELECT count(*) FROM crm_sync_message WHERE state = 'pending'")[0][0]
        quiet = quiet + 1 if not (jobs or pending) else 0
        if quiet >= 2:
            return True
        time.sleep(3)
    return False


def run(options):
    start, end = billing.last_month()
    port_a, port_b = (int(port) for port in options.ports.split(","))
    common = {"pg_port": options.pg_port, "workers": 2}
    node_a = OdooServer(
        options.conf, options.db, port_a, job_runner=False, cron_threads=0,
        log=f"/tmp/two-nodes-{options.db}-a.log", **common,
    )  # fmt: skip
    node_b = OdooServer(
        options.conf, options.db, port_b, job_runner=True, cron_threads=1,
        log=f"/tmp/two-nodes-{options.db}-b.log",
        env={"ODOO_QUEUE_JOB_PORT": str(port_a), "ODOO_QUEUE_JOB_CHANNELS": "root:4"},
        **common,
    )  # fmt: skip
    for node in (node_a, node_b):  # the logs tell about this run only
        for log in (node.log, Path(f"{node.log}.stderr")):
            log.unlink(missing_ok=True)
    if options.template:
        node_a.recreate_database(options.template)
    journal = Path(tempfile.mkdtemp(prefix="two-nodes-")) / "crm.jsonl"
    fake = crm.FakeCrm(options.crm_port, journal)
    evidence, problems = [], []
    fake.start()
    began = time.monotonic()
    try:
        sub_ids = node_b.shell(
            SETUP.format(
                batch=options.batch,
                backend=BACKEND,
                url=fake.url,
                secret=fake_crm_process.fake.FakeCrmServer.WEBHOOK_SECRET,
                count=options.tenants,
                prefix=PREFIX,
                anchor=start.strftime("%F"),
            )
        )
        with node_a, node_b:
            evidence.append(f"nodes up after {time.monotonic() - began:.0f} s")
            text, found = exercise(options, node_a, node_b, sub_ids, start, end)
            evidence.append(text)
            problems += found
    finally:
        fake.stop()
    summary, found = crm.check(node_a, fake, options.final_seats, backend=BACKEND)
    evidence.append(summary)
    problems += found
    evidence.append(f"total {time.monotonic() - began:.0f} s; logs {node_a.log}, {node_b.log}")
    return "\n".join(evidence), problems


def exercise(options, node_a, node_b, sub_ids, start, end):
    evidence, problems = [], []
    tenants = [f"{PREFIX}{i:03d}" for i in range(options.tenants)]
    events = usage_events(tenants, options.events_per_tenant, start)
    seats_1 = dict.fromkeys(tenants, 2)
    options.final_seats = {tenant: 3 + i % 4 for i, tenant in enumerate(tenants)}
    load, t0 = Load(options), time.monotonic()
    connections = ConnectionPeak(node_a)
    connections.start()
    half = len(events) // 2
    for n, node in enumerate((node_a, node_b, node_b, node_a)):
        part = events[:half] if n < 2 else events[half:]
        load.spawn(load.send, node.url, part, None, 100, n)
    round_1 = seats_events(tenants, seats_1, 1)
    for node in (node_a, node_b):  # the same lifecycle events on both nodes
        load.spawn(load.send, node.url, round_1, SUBSCRIPTION_EVENTS)
    time.sleep(2)
    node_b.shell(billing.TRIGGER)  # the cron on node B enqueues the closing jobs
    for n, node in enumerate((node_a, node_b)):
        load.spawn(load.run_billing, node.url, options.db, sub_ids, n)
    time.sleep(1)
    round_2 = seats_events(tenants, options.final_seats, 2)
    for node in (node_b, node_a):
        load.spawn(load.send, node.url, round_2, SUBSCRIPTION_EVENTS)
    load.join()
    evidence.append(f"load sent in {time.monotonic() - t0:.0f} s")
    settled = wait_settled(node_a, options.timeout)
    connections.stopped.set()
    evidence.append(f"jobs and CRM messages settled={settled} {time.monotonic() - t0:.0f} s")
    evidence.append(f"peak PostgreSQL connections to the database: {connections.peak}")
    if not settled:
        problems.append("jobs or CRM messages still open at the timeout")
    for path, url, summary in load.summaries:
        evidence.append(f"{path} via {url}: {summary.line()}")
        if not summary.ok:
            problems.append(f"{path} via {url}: {summary.errors[:3]}")
    accepted = sum(s.accepted + s.quarantined for p, _u, s in load.summaries if p == "events")
    duplicates = sum(s.duplicates for p, _u, s in load.summaries if p == "events")
    evidence.append(f"{len(events)} distinct events sent twice: {accepted} stored, {duplicates}")
    if (accepted, duplicates) != (len(events), len(events)):
        problems.append(f"expected {len(events)} stored and as many duplicates")
    stored = node_a.sql(
        "SELECT count(*) FROM usage_event_key WHERE event_id LIKE %s", (PREFIX + "0%",)
    )[0][0]
    evidence.append(f"event keys stored: {stored}")
    if stored != len(events):
        problems.append(f"event keys stored: {stored}, distinct events sent: {len(events)}")
    problems += [f"thread error: {error}" for error in load.errors]
    evidence += [f"thread error: {error}" for error in load.errors[:10]]
    params = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}
    params.update(prefix=PREFIX + "%", backend=BACKEND)
    for label, sql in CHECKS.items():
        value = node_a.sql(sql, params)[0][0]
        evidence.append(f"{label}: {value}")
        if value:
            problems.append(f"{label}: {value}")
    # An internal error answered to a client (a 5xx) is a failure even when its retry
    # succeeded.  odoo.sql_db logs every failed query as an error, the serialization
    # failures that concurrency makes and Odoo or queue_job retry included: not those.
    errors = [
        line
        for node in (node_a, node_b)
        for line in node.log_lines(" ERROR ")
        if "odoo.sql_db: bad query" not in line
    ]
    evidence.append(f"ERROR lines in the two nodes' logs: {len(errors)}")
    evidence += [f"  {line[:300]}" for line in errors[:5]]
    if errors:
        problems.append(f"{len(errors)} ERROR line(s) in the nodes' logs")
    jobs = Counter(dict(node_a.sql("SELECT state, count(*) FROM queue_job GROUP BY state")))
    statements = node_a.sql(
        "SELECT count(*), count(DISTINCT subscription_id) FROM usage_statement"
        " WHERE subscription_id = ANY(%s)",
        (sub_ids,),
    )[0]
    evidence.append(f"jobs: {dict(jobs)}; statements: {statements[0]} for {statements[1]} subs")
    if tuple(statements) != (len(sub_ids), len(sub_ids)):
        problems.append(f"expected {len(sub_ids)} statements, one per subscription")
    return "\n".join(evidence), problems


SUBSCRIPTION_EVENTS = "/usage_billing/v1/subscription_events"


def main(argv=None):
    options = build_parser().parse_args(argv)
    options.secret = os.environ.get("USAGE_SECRET", DEMO_SECRET)
    os.environ["PGPORT"] = str(options.pg_port)
    print("===== two Odoo nodes on one database =====", flush=True)
    try:
        text, problems = run(options)
    except Exception as exc:  # a run that crashes is a failed run, with its reason
        text, problems = f"crashed: {type(exc).__name__}: {exc}", [repr(exc)]
    print(text, flush=True)
    for problem in problems:
        print(f"PROBLEM: {problem}", flush=True)
    print(f"two nodes: {'FAIL' if problems else 'PASS'}", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
