"""Field types as a registry: one module per type owns everything type-specific.

See base.py for what a type decides and registry.py for how types (plugins'
included) are found.
"""

from .base import COMMON, NUMERIC, TEXTUAL, FieldType, FormContext
from .registry import BUILTIN_TYPES, field_type, field_types, register_types
from .values import FieldValueError

__all__ = ["BUILTIN_TYPES", "COMMON", "NUMERIC", "TEXTUAL", "FieldType", "FieldValueError", "FormContext",
           "field_type", "field_types", "register_types"]
