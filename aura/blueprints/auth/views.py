"""Routes of the auth blueprint."""
