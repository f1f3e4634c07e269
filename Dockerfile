# Odoo 19 with OCA queue_job, in two targets:
#   runtime  what the compose stack's odoo and init services run (no test tools)
#   test     runtime plus requirements-test.txt, for the compose "tests" service
#
# odoo:19.0-YYYYMMDD tags are the official image's dated builds (odoo:19.0 and
# odoo:19 float to the newest one). This one is Ubuntu 24.04 (Python 3.12) and
# brings curl, postgresql-client, python3-cryptography and python3-requests.
FROM odoo:19.0-20260908 AS runtime

USER root
# The image ships Odoo as a Debian package, invisible to pip's resolver, and the
# queue_job wheel declares a dependency on the "odoo" distribution: install the
# wheel without dependencies, then its own requirements, pinned, explicitly
# (openupgradelib needs lxml, which the image has, and cssselect, which it has not).
# The import line fails the build if the image stops providing what the addons use.
RUN pip3 install --no-cache-dir --break-system-packages --no-deps \
        odoo-addon-queue-job==19.0.2.4.0.1 \
        openupgradelib==3.13.7 \
        cssselect==1.6.0 \
    && python3 -c "import cryptography.fernet, requests, lxml, cssselect, openupgradelib" \
    && install -d -o odoo -g odoo -m 700 /var/lib/odoo-secrets
# Start script of the odoo and init services (secrets, effective configuration,
# one-shot install); it hands over to the image's own /entrypoint.sh.
COPY docker/odoo-compose.sh /usr/local/bin/odoo-compose
RUN chmod 755 /usr/local/bin/odoo-compose
USER odoo

FROM runtime AS test
USER root
COPY requirements-test.txt /tmp/requirements-test.txt
RUN pip3 install --no-cache-dir --break-system-packages -r /tmp/requirements-test.txt
USER odoo
