"""Sensors of the Apple Music provider."""
