"""Data import: files in (files.py), columns to fields (mapping.py), rows through the record
commands as a job (run.py), and undo (revert.py). Web views and API live in app/web/imports*.py."""
