"""Models of the virtual_tags app."""
