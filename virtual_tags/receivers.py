"""Signal receivers of the virtual tags app."""
