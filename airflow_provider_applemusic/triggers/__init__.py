"""Triggers of the Apple Music provider."""
