"""The pages of the web interface, one module per page."""
