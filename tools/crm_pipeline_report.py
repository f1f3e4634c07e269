"""What tools/bench_crm_pipeline.py checks and prints: pure helpers, no Odoo."""

from collections import Counter


def received_inputs(requests):
    """Batch upsert inputs of ``requests`` (those the emulator applied), in order."""
    return [item for request in requests for item in request.json()["inputs"]]


def delivery_problems(phase, expected, inputs):
    """Tenants of ``expected`` not received exactly once, and tenants not expected."""
    counts = Counter(item["id"] for item in inputs)
    lost = sorted(set(expected) - set(counts))
    doubled = sorted(tenant for tenant, count in counts.items() if count > 1)
    unexpected = sorted(set(counts) - set(expected))
    problems = []
    for label, tenants in (("lost", lost), ("doubled", doubled), ("unexpected", unexpected)):
        if tenants:
            problems.append(f"{phase}: {len(tenants)} tenant(s) {label}, e.g. {tenants[:3]}")
    return problems


def payload_problems(phase, expected, inputs, ignore=()):
    """Received properties differing from ``expected`` ``{tenant: properties}``."""
    wrong = []
    for item in inputs:
        want = expected.get(item["id"])
        if want is None:
            wrong.append(f"{item['id']} (no status computed)")
            continue
        got = {k: v for k, v in item["properties"].items() if k not in ignore}
        want = {k: v for k, v in want.items() if k not in ignore}
        if got != want:
            diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            wrong.append(f"{item['id']} ({', '.join(diff[:4])})")
    if not wrong:
        return []
    return [f"{phase}: {len(wrong)} tenant(s) received another status, e.g. {wrong[:3]}"]


def per_second(count, seconds):
    return count / seconds if seconds > 0 else float("inf")


#: (row key, heading, width, format) of the table; "-" where a phase has no such figure.
COLUMNS = (
    ("tenants", "tenants", 8, ",d"),
    ("requests", "requests", 8, ",d"),
    ("jobs", "jobs", 6, ",d"),
    ("enqueue", "enqueue s", 9, ".2f"),
    ("crm", "to CRM s", 9, ".2f"),
    ("done", "to done s", 9, ".2f"),
    ("rate", "updates/s", 10, ",.0f"),
    ("job_mean", "job s", 7, ".3f"),
)


def table(rows):
    lines = [f"{'phase':<32} " + " ".join(f"{h:>{w}}" for _k, h, w, _f in COLUMNS)]
    for row in rows:
        cells = (f"{row[k]:>{w}{f}}" if k in row else f"{'-':>{w}}" for k, _h, w, f in COLUMNS)
        lines.append(f"{row['phase']:<32} " + " ".join(cells))
    return "\n".join(lines)


def ratios(rows):
    """Batching's speed-up, and how much slower than the bare client the pipeline is."""
    batched, single, bare_batched, bare_single = (row["rate"] for row in rows)
    return (
        f"batching speed-up: pipeline {batched / single:.1f}x, "
        f"bare client {bare_batched / bare_single:.1f}x\n"
        f"pipeline time per tenant / bare client's: batched {bare_batched / batched:.1f}x, "
        f"one per tenant {bare_single / single:.1f}x"
    )
