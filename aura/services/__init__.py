"""Business rules: plain values in, models or dataclasses out, AuraError subclasses raised."""
