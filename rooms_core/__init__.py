"""ROOMS core: the pure domain of parimutuel prediction rooms.

Models, lifecycle, parimutuel math, ledger rules, use-case services and the ports
(typing.Protocol) through which every service does I/O. Nothing here imports an adapter.
"""
