"""Matching quality on judged sets in the schema of ``shared/data/dev``."""
