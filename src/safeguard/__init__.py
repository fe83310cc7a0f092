"""Safeguard: the operations platform for an online platform's child-safety team."""
