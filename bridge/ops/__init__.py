"""What the operator commands do, apart from how they print it."""
