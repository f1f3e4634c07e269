# Odoo 19 with OCA queue_job, in two targets:
#   runtime  what the compose stack's odoo and init services run (no test tools)
#   test     runtime plus Chrome and requirements-test.txt, for the compose "tests" service
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
# Chrome for the browser tours (Odoo looks for google-chrome, then chromium). On
# Ubuntu 24.04 `apt-get install chromium` installs only a stub that runs the snap,
# and snaps do not run in a container. As Odoo's own CI image for noble does
# (odoo/runbot, runbot/data/dockerfile_data.xml, "Install chrome"): Google's
# google-chrome-stable package, one pinned version from its apt repository's pool,
# installed through apt so that its dependencies come from Ubuntu. amd64 only
# (Google publishes no arm64 Chrome). The pool keeps recent versions only: when
# this one is gone the build fails here (curl -f); pass a newer one with
# --build-arg CHROME_VERSION=... or raise it below.
ARG CHROME_VERSION=145.0.7632.116-1
RUN curl -fsSL -o /tmp/google-chrome.deb \
        "https://dl.google.com/linux/chrome/deb/pool/main/g/google-chrome-stable/google-chrome-stable_${CHROME_VERSION}_amd64.deb" \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/google-chrome.deb \
    && rm -rf /var/lib/apt/lists/* /tmp/google-chrome.deb \
    && google-chrome --version
COPY requirements-test.txt /tmp/requirements-test.txt
RUN pip3 install --no-cache-dir --break-system-packages -r /tmp/requirements-test.txt
USER odoo
