"""Metadata versions: the metadata in force lives in the database, every process follows it.

`store` reads and records versions; `apply.apply_files` is the one way a new version
comes in (web editor, `crm apply`); `rollback.rollback_to` goes back; `startup` decides
what an app is built from; `live` swaps a process's app when the version changes.
"""
