"""Exploring parameter space: sweeps of 1–3 axes and f–I curves, fits to spike trains or
patterns, and the Dask cluster that runs sweep chunks."""
