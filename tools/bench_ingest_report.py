"""The ingestion benchmark's results: one round each, the medians judged on the targets."""

import statistics
from dataclasses import dataclass

TARGET_RATIO = 0.5
TARGET_RATE = 20_000


@dataclass
class Round:
    endpoint_events: int
    endpoint_seconds: float
    raw_events: int
    raw_seconds: float
    server: tuple  # requests, mean, p50, p95 server-side ms per request

    @property
    def endpoint_rate(self):
        return self.endpoint_events / self.endpoint_seconds

    @property
    def raw_rate(self):
        return self.raw_events / self.raw_seconds

    @property
    def ratio(self):
        return self.endpoint_rate / self.raw_rate


def report(args, rounds):
    """One table per round, then the medians, on which the targets are judged."""
    header = f"{'':<10}{'phase':<26}{'events':>9}{'seconds':>9}{'events/s':>10}{'ratio':>8}"
    lines = [header]
    for number, result in enumerate(rounds, 1):
        lines += [
            f"{f'round {number}':<10}{'endpoint (HTTP, signed)':<26}{result.endpoint_events:>9}"
            f"{result.endpoint_seconds:>9.2f}{result.endpoint_rate:>10,.0f}{result.ratio:>8.1%}",
            f"{'':<10}{'raw INSERT (psycopg2)':<26}{result.raw_events:>9}"
            f"{result.raw_seconds:>9.2f}{result.raw_rate:>10,.0f}",
        ]
    e_rate = statistics.median(r.endpoint_rate for r in rounds)
    r_rate = statistics.median(r.raw_rate for r in rounds)
    ratio = statistics.median(r.ratio for r in rounds)
    label = "median" if len(rounds) > 1 else "result"
    lines += [
        f"{label:<10}{'endpoint':<26}{'':>18}{e_rate:>10,.0f}{ratio:>8.1%}",
        f"{'':<10}{'raw':<26}{'':>18}{r_rate:>10,.0f}",
        "",
        f"target endpoint >= {TARGET_RATIO:.0%} of raw:      "
        + ("met" if ratio >= TARGET_RATIO else "MISSED"),
        f"target endpoint >= {TARGET_RATE:,} events/s: "
        + ("met" if e_rate >= TARGET_RATE else "MISSED"),
    ]
    for number, result in enumerate(rounds, 1):
        count, avg, p50, p95 = result.server
        if count:
            lines.append(
                f"round {number}: server-side time per request of {args.batch_size} events"
                f" ({count} requests): mean {avg:.0f} ms, p50 {p50:.0f} ms, p95 {p95:.0f} ms"
            )
    return "\n".join(lines)
