"""Offline evaluation of matching quality on sets in the schema of ../shared/data/dev."""
