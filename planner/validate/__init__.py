"""Cloud-aware rules over resolved restores (offline rules live with the loader and graph)."""
