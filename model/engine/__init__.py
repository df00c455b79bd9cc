"""Array-clean runtime for PySD's translated models: N parameter sets in one pass.

`transform` checks and rewrites the translated module, `runtime` holds the array-clean
replacements it imports, and `batch` runs one chunk of parameter sets through PySD's own
Model machinery. `model.ensemble` splits the work into chunks and gathers the results.
"""
