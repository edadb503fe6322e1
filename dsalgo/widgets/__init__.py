"""Interactive explorers for notebooks.  Each function returns an ipywidgets object that
redraws its charts when a control changes."""
