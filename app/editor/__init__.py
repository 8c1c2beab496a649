"""The business admin's metadata editor: round-trip YAML edits, the Settings pages, history.

`roundtrip` loads and writes metadata texts with ruamel.yaml so that an edit changes only
the lines it must; `yamledit` holds the edit operations in the CRM's own terms; the views
(`views`, `history`) show a plan from `app.metaversions.apply.apply_files(dry_run=True)`
and apply it as one new metadata version.
"""
