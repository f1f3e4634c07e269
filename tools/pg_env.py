"""Where the tools find PostgreSQL: libpq's variables, with the tools' defaults.

PGHOST (127.0.0.1), PGPORT (5432), PGUSER (the current user), PGPASSWORD (none).
"""

import getpass
import os


def db_params():
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", getpass.getuser()),
        "password": os.environ.get("PGPASSWORD", ""),
    }


def pg_dsn(db, port=None):
    """libpq connection string of ``db``; ``port`` instead of PGPORT when given."""
    import psycopg2  # noqa: PLC0415  (not needed by run_tests.py's repo-level tier)

    params = db_params()
    return psycopg2.extensions.make_dsn(
        dbname=db,
        host=params["host"],
        port=params["port"] if port is None else port,
        user=params["user"],
        password=params["password"] or None,
    )
