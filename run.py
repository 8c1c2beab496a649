"""Entry point: `flask --app run.py ...` and WSGI servers (`gunicorn run:app`)."""

import sys

from app import InsecureSecretKey, MetadataError, SchemaPending, create_app

try:
    app = create_app()
except (MetadataError, SchemaPending, InsecureSecretKey) as exc:  # refuse to start, saying why
    sys.exit(str(exc))
