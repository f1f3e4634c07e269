"""A remote system's answers to outbox messages, recorded without the network.

Demo data must show delivered and dead messages right after an offline install,
and some tests need a message in a given state without a server to refuse it.
These write what the delivery job (``usage.outbox.message._deliver``) writes
for the same answers, through the same methods: state, counters, last error
and the attempt log.  ``result`` is a ``core.delivery.http.DeliveryResult``.
"""


def record_delivered(messages, result):
    """``messages`` delivered at the first try, the remote system answering ``result``."""
    messages._mark_done(result, messages._attempt_values(result))
    return messages


def record_dead(messages, result, tries=1):
    """``messages`` failed ``tries`` times with ``result``, the last time for good: dead."""
    attempt_values = messages._attempt_values(result)
    for _retry in range(tries - 1):
        messages._mark_failed(result, attempt_values)
    messages._mark_dead(result, attempt_values)
    return messages
