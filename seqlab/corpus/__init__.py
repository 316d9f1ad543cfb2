"""Corpus stage: the built-in registry, readers for what people bring (text, tables, IMDb archives, URLs),
and corpus statistics."""
