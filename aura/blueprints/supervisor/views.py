"""Routes of the supervisor blueprint."""
