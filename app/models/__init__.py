"""Models layer: spec → SQLAlchemy tables and classes."""

from .builder import ModelSet, build_models

__all__ = ["ModelSet", "build_models"]
