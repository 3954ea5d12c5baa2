"""What a burst is: one definition, read alike by the batched kernel (which counts bursts as it
simulates) and by the spike-train features (which find them in a recorded train).

A burst is a run of at least two spikes whose successive intervals are all at most
BURST_MAX_ISI_MS, followed by a pause of at least BURST_MIN_PAUSE_MS and at least
BURST_PAUSE_FACTOR times the run's longest interval (or by the end of the run).
"""

BURST_MAX_ISI_MS = 10.0  # successive intervals ≤ this (ms) join spikes into one run
BURST_MIN_PAUSE_MS = 15.0  # a burst is followed by at least this much silence ...
BURST_PAUSE_FACTOR = 3.0  # ... and by at least this many times its longest interval
