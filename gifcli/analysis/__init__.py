"""Reading a run: spike-train features and bursts, the f–I probe, and the pattern checks."""
