"""Automations: rules in metadata/automations.yaml run on record changes from the outbox.

- `spec.py`: what a rule is (trigger, condition, actions), as loaded.
- `loader.py` + `checks.py`: read and check automations.yaml (located CRM-E057..E064 problems).
- `engine.py`: does a rule fire for an event, and what would it do (also the dry run).
- `actions.py`: set fields and create records through the record commands, as the automation.
- `mail.py`, `webhooks.py`: outbound e-mail (SMTP) and webhooks (HMAC-signed JSON).
- `process.py`: the outbox worker: claims events, runs hooks and rules, retries deliveries.
- `dispatch.py`: after a commit that wrote events, start the worker (a job, or a thread).
"""
