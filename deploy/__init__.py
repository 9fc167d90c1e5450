"""Deployment helpers for the programme."""
