"""Deployment configuration: how this server runs, not what the CRM is.

Business structure lives in metadata/. Every key here can be overridden by
an environment variable of the same name (see app/settings.py).
"""

import os

BASE_DIR = os.path.abspath(os.path.dirname(__file__))

# Embedded default: a SQLite file under instance/. Production: PostgreSQL, e.g.
# SQLALCHEMY_DATABASE_URI=postgresql+psycopg2://crm:secret@db-host/crm
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(BASE_DIR, "instance", "metacrm.db")
CRM_METADATA_DIR = os.path.join(BASE_DIR, "metadata")

# SECRET_KEY signs sessions and API tokens. Not set here on purpose: it comes from the
# SECRET_KEY environment variable, or from the file CRM_SECRET_KEY_FILE (default
# instance/secret_key, written once by `flask --app run.py crm secret-key`, which
# `make run` calls). Outside debug the app refuses a missing, placeholder or short key.

# Schema at start-up: "auto" creates an empty database and applies non-destructive
# metadata changes (the embedded default); production uses "check" (refuse to start
# while changes are pending) and runs `flask crm apply` at deploy time.
CRM_SCHEMA_MODE = "auto"

# Redis for background jobs; empty means jobs run in-process.
REDIS_URL = ""
