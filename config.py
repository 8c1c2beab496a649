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

# Set SECRET_KEY in the environment for any shared deployment.
SECRET_KEY = "dev-only-secret-change-me"

# Create missing tables at start-up (the embedded default). Production sets it to
# False and runs `flask crm init` at deploy time.
CRM_AUTO_CREATE_SCHEMA = True

# Redis for background jobs; empty means jobs run in-process.
REDIS_URL = ""
