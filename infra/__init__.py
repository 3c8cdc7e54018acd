"""Clarivum Operations Hub infrastructure: one access model, five providers, one policy pack."""
