"""Dialogrum domain package (see shared.app.create_app)."""
