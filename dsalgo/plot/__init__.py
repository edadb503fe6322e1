"""Charts.  Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes.

Each family's charts live in their own module; this package re-exports them.
"""
