"""Static checks of the docker compose stack, for a machine without Docker.

What ``docker compose up`` runs must be right by construction: these checks read
docker-compose.yml, the Dockerfile, docker/odoo.conf, docker/nginx.conf and
docker/odoo-compose.sh. Each check takes the repository root and returns a list
of human-readable problems; an empty list means it passed.
``python3 tools/compose_checks.py [ROOT]`` prints them and exits non-zero when
there is any.

The checks live in ``tools/compose_stack/``, one module per concern; this module
lists them and runs them.
"""

import sys
from pathlib import Path

from compose_stack.committed_secrets import check_committed_secrets
from compose_stack.dockerfile import (
    check_build_targets,
    check_image_tags,
    check_runtime_image,
    check_test_browser,
)
from compose_stack.nginx import check_proxy
from compose_stack.odoo_service import (
    check_healthcheck,
    check_init_service,
    check_job_capacity,
    check_odoo_serves_only,
    check_server_wide_modules,
)
from compose_stack.published_ports import check_published_ports

CHECKS = (
    check_committed_secrets,
    check_published_ports,
    check_odoo_serves_only,
    check_init_service,
    check_healthcheck,
    check_job_capacity,
    check_server_wide_modules,
    check_image_tags,
    check_proxy,
    check_build_targets,
    check_runtime_image,
    check_test_browser,
)


def run_all(root):
    return [problem for check in CHECKS for problem in check(root)]


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = run_all(root)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
