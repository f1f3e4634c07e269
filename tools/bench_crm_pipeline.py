#!/usr/bin/env python3
"""The CRM pipeline end to end: outbox, queue_job, HubSpot emulator (not a test).

    python3 tools/bench_crm_pipeline.py [--tenants 10000] [--single-tenants 1000]

Creates a database with both addons and demo data (``--reuse-db``: an existing
one), archives every CRM backend already there (the demo's Odoo CRM backend;
earlier runs'), and adds ``--tenants`` tenants, each mapped to a customer of its
own with a subscription on the demo plan ``growth-monthly`` (1 to 7 seats, so
every tenant's MRR tells it apart), then a HubSpot backend whose URL is the fake
CRM of the addon's tests (``crm_sync_connector/tests/fake_crm_server.py``,
HubSpot's wire format incl. its batch upsert) served by this process on
``--crm-port``.  It starts Odoo with ``--workers`` HTTP workers and queue_job's
runner loaded server-wide (``docs/deployment.md``; runner channels
``root:<--capacity>``, no cron thread), waits until no job is left from the
setup, and times three phases, each from the start of its enqueue:

1. **batched**: the daily full refresh as the scheduler runs it (the cron
   "CRM Sync: daily full refresh", ``method_direct_trigger``): every tenant with
   a subscription, one outbox statement, one job per 100 tenants (HubSpot's
   batch size is the client's ``batch_size``, not a setting);
2. **one per tenant**: the first ``--single-tenants`` bench tenants, written by
   the same outbox statement, then one job per message (``_schedule`` of each
   message, what a change to one tenant enqueues);
3. the yardstick, same run, same emulator: the connector's bare HubSpot client
   sending from this process the very inputs the emulator received in 1 and 2,
   100 per request then one per request, without rate limiter
   (``tools/bench_crm_sync.py``'s measurement).

The backend's rate limit is lifted (it would measure the limit, 5 requests/s by
default).  Each phase reports the time to the last upsert the emulator applied
and to the last outbox message marked delivered (polled every 0.1 s).  Checks:
the emulator applied every tenant of the phase exactly once, with its current
status (recomputed afterwards, every property but the sync time); every message
delivered, every job done, no ERROR in Odoo's log.  Exit status 1 on a failed
check.  ``--help`` lists the options.
"""

import argparse
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_billing
import bench_crm_sync
import run_tests
from crm_pipeline_report import (
    delivery_problems,
    payload_problems,
    per_second,
    ratios,
    received_inputs,
    table,
)

PREFIX = "bench-crm-"
UPSERT = "/crm/v3/objects/companies/batch/upsert"
REFRESH_CRON = "crm_sync_connector.ir_cron_full_refresh"
OPEN_JOBS_SQL = """
SELECT count(*) FROM queue_job WHERE state IN ('pending', 'enqueued', 'started')
   AND (eta IS NULL OR eta <= now() AT TIME ZONE 'UTC')
"""
MESSAGES_SQL = """
SELECT state, count(*) FROM crm_sync_message WHERE backend_id = %s AND id > %s GROUP BY state
"""
JOBS_SQL = """
SELECT state, count(*), sum(exec_time) FROM queue_job WHERE channel = %s AND id > %s
 GROUP BY state
"""


# ---------------------------------------------------------------------- emulator


def emulator_class():
    """The fake CRM of the addon's tests, noting each batch upsert it applied, and when.

    Applied, not answered: a request whose answer is lost (a dropped connection)
    was applied all the same, and its retry sends the same tenants again.
    """
    _client, fake_crm_server = bench_crm_sync._load_core()

    class TimedCrm(fake_crm_server):
        def reset(self):
            super().reset()
            self.applied = []  # (time.perf_counter(), request)

        def _hubspot_upsert(self, record):
            reply = super()._hubspot_upsert(record)
            if reply.status < 300:
                with self._lock:
                    self.applied.append((time.perf_counter(), record))
            return reply

    return TimedCrm


# ---------------------------------------------------------------------- Odoo side


def write_config(db):
    """``run_tests``' configuration in a directory kept per database (its filestore)."""
    directory = Path("/tmp") / f"bench-crm-pipeline-{db}"
    directory.mkdir(exist_ok=True)
    config = run_tests.write_odoo_config(directory, db)
    # One database served with -d: without a dbfilter Odoo does not list the
    # databases on every request (docs/benchmarks.md, ingestion notes).
    lines = config.read_text().splitlines(keepends=True)
    config.write_text("".join(line for line in lines if not line.startswith("dbfilter")))
    return config


def setup(env, count, crm_url, token):
    """Tenants, customers and subscriptions (those missing), and this run's backend."""
    plan = env.ref("usage_billing_connector.demo_plan_growth_monthly")
    company = plan.company_id
    # Only this run's backend is active: the subscriptions created below enqueue
    # nothing, and the refresh goes to it alone.
    env["crm.sync.backend"].search([]).action_archive()
    tenants = env["usage.tenant"].search([("external_id", "=like", PREFIX + "%")], order="id")
    missing = range(len(tenants), count)
    if missing:
        partners = env["res.partner"].create([{"name": f"Bench CRM {n}"} for n in missing])
        new = env["usage.tenant"].create(
            [
                {
                    "external_id": f"{PREFIX}{n:05d}",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "currency_id": plan.currency_id.id,
                }
                for n, partner in zip(missing, partners, strict=True)
            ]
        )
        anchor = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0)
        anchor = anchor.replace(microsecond=0, tzinfo=None)
        env["usage.subscription"].create(
            [
                {
                    "tenant_id": tenant.id,
                    "plan_id": plan.id,
                    "company_id": company.id,
                    "seats": 1 + n % 7,
                    "start_date": anchor,
                    "billing_anchor": anchor,
                }
                for n, tenant in zip(missing, new, strict=True)
            ]
        )
        tenants |= new
    backend = env["crm.sync.backend"].create(
        {
            "name": f"Bench HubSpot {datetime.now():%Y-%m-%d %H:%M:%S}",
            "backend_type": "hubspot",
            "base_url": crm_url,
            "company_id": company.id,
            "rate_limit": 1_000_000,
            "token": token,
        }
    )
    refreshed = env["usage.subscription"].search([("company_id", "=", company.id)]).tenant_id
    return backend, tenants[:count], refreshed


def expected_properties(env, backend_id, tenant_ids):
    """``{tenant: HubSpot properties}`` of the tenants' current status, computed now."""
    from odoo.addons.crm_sync_connector.core.clients.hubspot import hubspot_value  # noqa: PLC0415
    from odoo.addons.crm_sync_connector.core.mapping import apply_mapping  # noqa: PLC0415

    backend = env["crm.sync.backend"].browse(backend_id)
    tenants = env["usage.tenant"].browse(tenant_ids)
    mapping = backend._mapping_dict()
    names = dict(tenants.mapped(lambda t: (t.id, t.external_id)))
    expected = {}
    for tenant_id, status in tenants._crm_account_statuses().items():
        properties = {k: hubspot_value(v) for k, v in apply_mapping(status, mapping).items()}
        properties[backend.hubspot_id_property] = names[tenant_id]
        expected[names[tenant_id]] = properties
    return expected, {mapping.get("synced_at")}


class Pipeline:
    """One phase at a time: enqueue in this process, wait for the workers, check."""

    def __init__(self, registry, dsn, crm, backend_id, timeout):
        import psycopg2  # noqa: PLC0415

        self.registry, self.crm, self.backend_id, self.timeout = registry, crm, backend_id, timeout
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True

    def sql(self, query, params=None):
        with self.conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def env(self, cr):
        from odoo import SUPERUSER_ID, api  # noqa: PLC0415

        return api.Environment(cr, SUPERUSER_ID, {})

    def wait_idle(self):
        deadline = time.monotonic() + self.timeout
        while self.sql(OPEN_JOBS_SQL)[0][0]:
            if time.monotonic() > deadline:
                raise SystemExit("jobs of the setup still open: is the job runner up?")
            time.sleep(0.5)

    def refresh(self, env):
        env.ref(REFRESH_CRON).method_direct_trigger()  # the cron's own transaction

    def one_per_tenant(self, tenant_ids):
        def enqueue(env):
            backend = env["crm.sync.backend"].browse(self.backend_id)
            tenants = env["usage.tenant"].browse(tenant_ids)
            messages = env["crm.sync.message"]._enqueue(backend, tenants, schedule=False)
            for message in messages:
                message._schedule()

        return enqueue

    def run(self, name, enqueue, expected_ids):
        """Enqueue, wait until nothing is pending, check; a row of figures and problems."""
        self.wait_idle()
        self.crm.reset()
        last_message = self.sql("SELECT coalesce(max(id), 0) FROM crm_sync_message")[0][0]
        last_job = self.sql("SELECT coalesce(max(id), 0) FROM queue_job")[0][0]
        started = time.perf_counter()
        with self.registry.cursor() as cr:
            enqueue(self.env(cr))
        enqueued = time.perf_counter() - started
        deadline, states = time.monotonic() + self.timeout, {}
        while time.monotonic() < deadline:
            states = dict(self.sql(MESSAGES_SQL, [self.backend_id, last_message]))
            if states and not states.get("pending"):
                break
            time.sleep(0.1)
        done = time.perf_counter() - started
        with self.registry.cursor() as cr:
            env = self.env(cr)
            channel = env["crm.sync.backend"].browse(self.backend_id)._outbox_channel_name()
            names = env["usage.tenant"].browse(expected_ids).mapped("external_id")
            expected, ignore = expected_properties(env, self.backend_id, expected_ids)
        while self.sql(OPEN_JOBS_SQL)[0][0] and time.monotonic() < deadline:
            time.sleep(0.1)  # the job's own row is written in the messages' transaction
        rows = self.sql(JOBS_SQL, [channel, last_job])
        jobs = {state: (count, exec_time) for state, count, exec_time in rows}
        requests = self.crm.requests_to(UPSERT)
        applied = list(self.crm.applied)
        inputs = received_inputs(request for _time, request in applied)
        problems = delivery_problems(name, names, inputs)
        problems += payload_problems(name, expected, inputs, ignore)
        if set(states) != {"done"} or sum(states.values()) != len(names):
            problems.append(f"{name}: outbox messages {states}, expected {len(names)} done")
        if set(jobs) != {"done"}:
            counts = {state: count for state, (count, _time) in jobs.items()}
            problems.append(f"{name}: jobs {counts}")
        job_count, exec_time = jobs.get("done", (0, 0.0))
        row = {
            "phase": name,
            "tenants": len(names),
            "requests": len(requests),
            "jobs": job_count,
            "enqueue": enqueued,
            "crm": max((at - started for at, _r in applied), default=float("nan")),
            "done": done,
            "rate": per_second(len(names), done),
            "job_mean": (exec_time or 0.0) / job_count if job_count else float("nan"),
        }
        return row, inputs, problems

    def close(self):
        self.conn.close()


def yardstick(crm, name, inputs, batch):
    """The bare client sending ``inputs`` again (``bench_crm_sync``'s measurement)."""
    client_class, _server = bench_crm_sync._load_core()
    accounts = [{"tenant": item["id"], "properties": item["properties"]} for item in inputs]
    crm.reset()
    with client_class(crm.url, crm.HUBSPOT_TOKEN, rate_limit=None) as client:
        elapsed = bench_crm_sync._run(client, accounts, batch=batch)
    requests, applied = crm.requests_to(UPSERT), [request for _time, request in crm.applied]
    problems = delivery_problems(name, [a["tenant"] for a in accounts], received_inputs(applied))
    rate = per_second(len(accounts), elapsed)
    row = {"phase": name, "tenants": len(accounts), "requests": len(requests), "crm": elapsed}
    return {**row, "rate": rate}, problems


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_crm_pipeline")
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--single-tenants", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--capacity", type=int, default=0, help="runner's root channel (workers)")
    parser.add_argument("--port", type=int, default=8779, help="Odoo HTTP port (+1: gevent)")
    parser.add_argument("--crm-port", type=int, default=8781)
    parser.add_argument("--timeout", type=float, default=900, help="longest wait per phase, s")
    parser.add_argument("--reuse-db", action="store_true", help="an existing database")
    parser.add_argument("--keep-db", action="store_true")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    capacity = args.capacity or args.workers
    config = write_config(args.db)
    if not args.reuse_db:
        bench_billing.create_database(args.db, config)

    from drills.odoo_server import OdooServer  # noqa: PLC0415
    from pg_env import db_params, pg_dsn  # noqa: PLC0415

    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config as odoo_config  # noqa: PLC0415

    odoo_config.parse_config(["-c", str(config)])
    registry = Registry(args.db)
    crm = emulator_class()(port=args.crm_port).start()
    t0 = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        backend, tenants, refreshed = setup(env, args.tenants, crm.url, crm.HUBSPOT_TOKEN)
        backend_id, refreshed_ids = backend.id, refreshed.ids
        single = tenants[: args.single_tenants].ids
    print(f"set up {args.tenants:,} tenants and the backend in {time.perf_counter() - t0:.0f} s")
    server = OdooServer(
        str(config),
        args.db,
        args.port,
        pg_port=db_params()["port"],
        workers=args.workers,
        log=f"/tmp/bench-crm-pipeline-{args.db}.log",
        cron_threads=0,
        env={"ODOO_QUEUE_JOB_CHANNELS": f"root:{capacity}"},
    )
    server.log.unlink(missing_ok=True)  # the checks below read this run's log only
    problems = []
    try:
        server.start()
        deadline = time.monotonic() + 60
        while not server.log_lines("queue job runner ready for db"):
            if time.monotonic() > deadline:
                raise SystemExit(f"queue_job's runner did not start: see {server.log}")
            time.sleep(0.5)
        pipeline = Pipeline(registry, pg_dsn(args.db), crm, backend_id, args.timeout)
        try:
            phases = [
                pipeline.run("batched (daily refresh)", pipeline.refresh, refreshed_ids),
                pipeline.run("one per tenant", pipeline.one_per_tenant(single), single),
            ]
        finally:
            pipeline.close()
    finally:
        server.stop()
    errors = server.log_count(" ERROR ")
    if errors or server.restarts:
        problems.append(f"Odoo: {errors} ERROR line(s), restarts {server.restarts}: {server.log}")
    rows = [row for row, _inputs, _problems in phases]
    for (_row, inputs, phase_problems), batch in zip(phases, (True, False), strict=True):
        problems += phase_problems
        name = f"bare client, {'100' if batch else 'one'} per request"
        row, yardstick_problems = yardstick(crm, name, inputs, batch)
        rows.append(row)
        problems += yardstick_problems
    crm.stop()

    print(
        f"\nCRM pipeline: {len(refreshed_ids):,} tenants refreshed ({args.tenants:,} bench "
        f"tenants and the demo's), {len(single):,} one per tenant; Odoo --workers="
        f"{args.workers}, runner channels root:{capacity}, HubSpot emulator in this process"
    )
    print(table(rows))
    print(ratios(rows))
    print(f"daily refresh of {len(refreshed_ids):,} tenants: {rows[0]['done']:.1f} s")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"checks: {'PASS' if not problems else 'FAIL'}")
    if not (args.keep_db or args.reuse_db):
        run_tests.drop_database(args.db)
        shutil.rmtree(config.parent)  # its configuration and filestore
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
