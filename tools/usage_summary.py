"""What a send of the reference client achieved, added up over every batch."""

from dataclasses import dataclass, field

# Per-event errors kept in Summary.errors: a file whose every line is wrong must
# not make the summary as large as the file.
MAX_EVENT_ERRORS = 1000


@dataclass
class Summary:
    """What a ``send`` achieved, added up over every batch."""

    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    rejected: int = 0
    requests: int = 0
    retries: int = 0
    failed_batches: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        """Every batch was answered and no event was rejected."""
        return not self.failed_batches and not self.rejected

    def line(self):
        return (
            f"accepted={self.accepted} duplicates={self.duplicates} "
            f"quarantined={self.quarantined} rejected={self.rejected} "
            f"requests={self.requests} retries={self.retries} "
            f"failed_batches={self.failed_batches}"
        )


def batch_error(number, batch, status, code, exc):
    return {
        "batch": number,
        "events": len(batch),
        "first_event_id": batch[0].get("event_id") if isinstance(batch[0], dict) else None,
        "status": status,
        "code": code,
        "message": exc.message,
    }


def add_counts(summary, payload):
    for name in ("accepted", "duplicates", "quarantined", "rejected"):
        setattr(summary, name, getattr(summary, name) + int(payload.get(name, 0)))
    for result in payload.get("results") or ():
        if len(summary.errors) >= MAX_EVENT_ERRORS:
            break
        if result.get("status") == "rejected":
            error = result.get("error") or {}
            summary.errors.append(
                {
                    "event_id": result.get("event_id"),
                    "code": error.get("code"),
                    "message": error.get("message"),
                }
            )
