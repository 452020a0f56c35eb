"""Routes of the streaming blueprint."""
