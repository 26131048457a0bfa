"""Adapters for the real world's plain facilities: the system clock."""
