"""Static checks of the docker compose stack, one module per concern.

``files`` reads the stack (docker-compose.yml, docker/odoo.conf, the start
script); ``committed_secrets``, ``published_ports``, ``odoo_service``,
``nginx`` and ``dockerfile`` each check one part of it. Every check takes the
repository root and returns a list of human-readable problems; the list of
checks and the CLI are ``tools/compose_checks.py``.
"""
