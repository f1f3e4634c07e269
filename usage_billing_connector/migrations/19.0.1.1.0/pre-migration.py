"""19.0.1.1.0: the usage event table becomes a partitioned store (utils/event_store.py).

The old table steps aside before the module loads: its name becomes the view
the ORM reads through.  post-migration copies its rows into the new store.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "SELECT relkind FROM pg_class WHERE relname = 'usage_event'"
        " AND relnamespace = current_schema::regnamespace"
    )
    row = cr.fetchone()
    if row and row[0] == "r":
        cr.execute("ALTER TABLE usage_event RENAME TO usage_event_legacy")
