"""Adapters: one subpackage per port family."""
