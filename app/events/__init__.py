"""The outbox: every record change as an event, written in the change's own transaction.

- `outbox.py` writes one `crm_event` row per insert, update and delete (mapper hooks, so
  every write path is covered and a rolled-back change leaves no event).
- `values.py` turns field values into JSON and back (dates, decimals, links).
- `read.py` reads events back: field history (audit) and undelivered events.
- `context.py` says which automation is acting, and how deep the chain is (loop guard).
"""
