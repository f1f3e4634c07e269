"""The events the ingestion benchmarks send: realistic, valid, deterministic.

Demo tenants and metrics (installed with ``--with-demo``), event ids under a
prefix unique to the run.  Used by ``bench_ingest``, ``load_ingest`` and the drills.
"""

import random
from datetime import datetime, timedelta, timezone

TENANTS = ("acme", "globex")
METRICS = ("api_calls", "storage_gb", "active_users")


def make_events(count, prefix, seed=42):
    """Realistic, valid, deterministic events: integers, decimal strings, properties."""
    rng = random.Random(seed)
    base = datetime.now(timezone.utc) - timedelta(hours=2)
    events = []
    for n in range(count):
        metric = METRICS[n % 3]
        if metric == "api_calls":
            quantity, properties = rng.randint(1, 1000), {"endpoint": "/v1/items"}
        elif metric == "storage_gb":
            quantity, properties = f"{rng.randint(0, 100_000) / 100:.2f}", {}
        else:
            quantity, properties = 1, {"user_id": f"u{rng.randint(1, 500)}"}
        moment = base + timedelta(milliseconds=n)
        events.append(
            {
                "event_id": f"{prefix}{n:08d}",
                "tenant": TENANTS[n % 2],
                "metric": metric,
                "quantity": quantity,
                "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "properties": properties,
            }
        )
    return events
