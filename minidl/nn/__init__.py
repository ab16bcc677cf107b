"""minidl.nn (placeholder, being written)."""
