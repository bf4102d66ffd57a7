# helpdesk-sync as a container: the daemon runs as an unprivileged user, its state (the
# SQLite store, when no PostgreSQL state_url is given) lives in the volume
# /var/lib/helpdesk-sync, and Docker's health check asks /readyz.
#
#   docker build -t helpdesk-sync .
#   docker run -d --name helpdesk-sync \
#     -v helpdesk-sync-state:/var/lib/helpdesk-sync \
#     -v /etc/helpdesk-sync:/etc/helpdesk-sync:ro \
#     -p 127.0.0.1:9464:9464 helpdesk-sync
#
# The configuration is read from /etc/helpdesk-sync/config.yaml (mount it, with the key
# files it names; it must say `health_address: 0.0.0.0:9464` for the published port to
# reach the health server); `docker run --rm ... helpdesk-sync check` checks it and the
# accounts, and `docker run --rm helpdesk-sync demo` runs the demo without either.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/helpdesk-sync
COPY pyproject.toml README.md daemon.py ./
COPY sync ./sync
COPY engine ./engine
COPY connectors ./connectors
COPY sandboxes ./sandboxes
COPY cli ./cli
COPY mappings ./mappings
RUN pip install '.[postgres]' \
    && rm -rf build ./*.egg-info \
    && useradd --system --uid 10001 --home-dir /var/lib/helpdesk-sync --shell /usr/sbin/nologin helpdesk-sync \
    && mkdir -p /var/lib/helpdesk-sync /etc/helpdesk-sync \
    && chown helpdesk-sync:helpdesk-sync /var/lib/helpdesk-sync

# The working directory is the state volume: the default SQLite store
# (sqlite:///helpdesk-sync.sqlite) lands there. The image sets no other setting, since
# environment variables would override the mounted configuration file. To scrape
# /metrics from outside the container, set `health_address: 0.0.0.0:9464` in the
# configuration; the health check below asks 127.0.0.1:9464, which both reach.
ENV HELPDESK_SYNC_CONFIG=/etc/helpdesk-sync/config.yaml

USER helpdesk-sync
WORKDIR /var/lib/helpdesk-sync
VOLUME ["/var/lib/helpdesk-sync"]
EXPOSE 9464
STOPSIGNAL SIGTERM

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/readyz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["helpdesk-sync"]
CMD ["run"]
