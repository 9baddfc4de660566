"""Hooks of the Apple Music provider."""
