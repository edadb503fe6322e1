"""dsalgo."""
