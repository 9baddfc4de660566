"""Operators of the Apple Music provider."""
