"""Records layer: field rules, parsing and the commands every write goes through."""
