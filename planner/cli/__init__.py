"""Command-line interface: argument parsing here, one thin module per command."""
