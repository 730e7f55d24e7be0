"""Reproduction report (work in progress)."""
