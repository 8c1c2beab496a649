"""Entry point: `flask --app run.py ...` and WSGI servers (`gunicorn run:app`).

`app` is a Flask app whose requests go through the live dispatcher (app/metaversions/live.py):
when another process applies a new metadata version, this one builds the new app in the
background and serves new requests with it, without a restart.
"""

import sys

from app import InsecureSecretKey, MetadataError, SchemaPending, create_app
from app.metaversions.live import install
from app.ops.heap import freeze_built_heap

try:
    app = create_app()
except (MetadataError, SchemaPending, InsecureSecretKey) as exc:  # refuse to start, saying why
    sys.exit(str(exc))
install(app)
freeze_built_heap()  # the built app is never garbage: out of the collector's scans
