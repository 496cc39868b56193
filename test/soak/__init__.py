"""The soak's short version."""
