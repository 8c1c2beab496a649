"""Entry point: `flask --app run.py ...` and WSGI servers (`gunicorn run:app`)."""

import sys

from app import MetadataError, create_app

try:
    app = create_app()
except MetadataError as exc:  # refuse to start, with every located problem
    sys.exit(str(exc))
