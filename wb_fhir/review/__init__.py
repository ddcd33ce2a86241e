"""Reviews over time: what changed between maps, the review summary, carrying a map forward."""
