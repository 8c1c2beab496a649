"""Security layer: the SecurityManager subclass and permission sync."""
