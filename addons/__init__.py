"""Guichet: ticketing as installable Tryton modules."""
