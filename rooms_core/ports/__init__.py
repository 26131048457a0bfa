"""Ports: one small module per external concern, each a ``typing.Protocol``."""
