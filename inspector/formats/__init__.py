"""Renderers: each turns a result into text or a document, and never fetches anything."""
