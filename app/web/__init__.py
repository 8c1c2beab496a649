"""Web layer: FAB views, REST APIs and pickers generated from the spec."""
