"""How to start Odoo so that its prefork server can start its gevent process too.

With ``--workers`` > 0 Odoo re-runs ``sys.argv[0]`` with ``gevent`` for the
live-update (websocket) process.  Under ``python -m odoo`` that is
``odoo/__main__.py``, which cannot run as a script: the gevent process dies at
once and is respawned in a loop that burns a core.  A real executable is
needed: ``$ODOO_BIN``, else the ``odoo`` script installed beside the
interpreter (pip), else ``odoo-bin`` beside the ``odoo`` package (a source tree
installed in editable mode).
"""

import os
import sys
from pathlib import Path


def odoo_command():
    """``[interpreter, executable]`` to which ``server ...`` arguments are appended."""
    candidates = [os.environ.get("ODOO_BIN"), Path(sys.executable).parent / "odoo"]
    try:
        import odoo  # noqa: PLC0415  (only where Odoo is installed)

        candidates += [Path(path).parent / "odoo-bin" for path in odoo.__path__]
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return [sys.executable, str(candidate)]
    raise SystemExit("No Odoo executable found: set ODOO_BIN to odoo-bin or the odoo script.")
