"""Models of the business app."""
