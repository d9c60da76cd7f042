"""Sagaline saga coordinator."""
