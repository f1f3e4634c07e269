"""What a billing run saw of the usage events, recorded so it can be read back.

A billing snapshot is ``"<pg_snapshot>;<own xid>;<sequence>"``:

* ``pg_snapshot`` (``xmin:xmax:xip``) says which other transactions' writes
  the run saw: every transaction below ``xmin``, and those below ``xmax`` not
  listed in ``xip`` (still running when it was taken);
* a transaction sees its own writes too, but its own id is not in its snapshot
  (it had not completed); writes of the billing transaction itself (its id,
  empty if it had none) count when they came before ``sequence``, the value of
  ``usage_event_accepted_seq`` taken with the snapshot.

An event made billable by transaction ``xid`` at sequence ``seq`` (its
``accepted_xid``/``accepted_seq``) was seen by a billing snapshot exactly when
``seen`` says so; the SQL function ``usage_event_seen`` is its twin.
"""


def parse(snapshot):
    """``(xmin, xmax, [xip])`` of a ``pg_snapshot`` text."""
    xmin, xmax, xip = snapshot.split(":")
    return int(xmin), int(xmax), [int(xid) for xid in xip.split(",") if xid]


def visible(xid, pg_snapshot):
    """Python twin of ``pg_visible_in_snapshot``."""
    xmin, xmax, xip = parse(pg_snapshot)
    return xid < xmin or (xid < xmax and xid not in xip)


def billing_snapshot(pg_snapshot, own_xid, sequence):
    """The text billing records: what the run saw, its own writes included."""
    return f"{pg_snapshot};{own_xid or ''};{int(sequence)}"


def seen(xid, seq, snapshot):
    """Whether a billing ``snapshot`` saw an event made billable by ``xid`` at ``seq``."""
    if xid is None:
        return False
    pg_snapshot, own_xid, sequence = snapshot.split(";")
    if own_xid and int(own_xid) == xid:
        return seq < int(sequence)
    return visible(xid, pg_snapshot)


def unseen_candidates(snapshot):
    """``(first, others)``: which transactions' events ``snapshot`` may not have seen.

    Only a transaction from ``first`` on (its ``xmax``: not started yet), one of
    ``others`` (still running then: its ``xip``; and itself, whose later writes
    it did not see) or none made such an event billable: every other one had
    completed, whatever the age of the oldest one still running (``xmin`` may be
    far behind, held by any long transaction of the server).  So the late usage
    of a period is looked for among few events, not among all of its events.
    """
    pg_snapshot, own_xid, _sequence = snapshot.split(";")
    _xmin, xmax, xip = parse(pg_snapshot)
    return xmax, sorted(set(xip) | ({int(own_xid)} if own_xid else set()))
