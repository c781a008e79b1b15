"""Composition: builds stages from configuration or scenario worlds and wires them together."""
