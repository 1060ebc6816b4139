"""Renderers: diagnostics (text, json) here; plans, graphs and reports beside them."""
