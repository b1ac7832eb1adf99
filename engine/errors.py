"""Errors a user can act on. The CLI prints their message (never a traceback) and exits
with the contract's code: 2 for invalid input or usage, 1 for an internal error."""

from __future__ import annotations


class CmlkbError(Exception):
    """An internal or knowledge-base error (exit code 1)."""

    exit_code = 1


class InvalidInput(CmlkbError):
    """Invalid case data or command usage (exit code 2). Nothing is evaluated or stored."""

    exit_code = 2
