# Odoo 19 with OCA queue_job and what the two addons and their tests need.
FROM odoo:19.0

USER root
COPY requirements.txt requirements-test.txt /tmp/requirements/
# The image ships Odoo as a Debian package, invisible to pip's resolver, and the
# queue_job wheel declares a dependency on the "odoo" distribution: install the
# wheel without dependencies, then its own requirements explicitly.
RUN pip3 install --no-cache-dir --break-system-packages --no-deps \
        "odoo-addon-queue-job>=19.0,<19.1" \
    && pip3 install --no-cache-dir --break-system-packages \
        openupgradelib -r /tmp/requirements/requirements-test.txt
USER odoo
