"""Charts: metadata charts computed in SQL for one viewer (see result.py for the contract)."""
