"""Tools that read stack outputs and stack files: DCI inventories and hand-off, seed import."""
