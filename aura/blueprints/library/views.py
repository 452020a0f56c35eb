"""Routes of the library blueprint."""
