"""Dedup: exact reposts, near-duplicates (MinHash + LSH) and seed-template families."""
