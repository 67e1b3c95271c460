"""Pulumi component resources of ocplab and the pure logic they compose."""
