"""Plugins layer: pluggy hooks for what metadata cannot say."""
