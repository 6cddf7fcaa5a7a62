"""Prefect flows and the CLI: the thin orchestration layer over `assess`."""

import os

# Measured on this machine kind (see README "Prefect start cost"): the embedded server needs more than the
# default 20 s to start on 2 cores, and telemetry fails without internet.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.5")
