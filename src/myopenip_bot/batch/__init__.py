"""Batches: the file, the journal, the workers, the report."""
