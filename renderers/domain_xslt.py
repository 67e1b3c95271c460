"""XSLT applied to each node's libvirt domain XML (pulumi-libvirt's `xml.xslt`).

It adds what the provider's schema lacks: the serial console logged to a file on the hypervisor
(like the seed's conserver, and how tests read what a guest did) and the disk cache mode.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr


def domain_xslt(console_log: str, disk_cache: str) -> str:
    """`console_log` is the node's core.resource_facts.console_log_path."""
    log = quoteattr(console_log)
    return f"""<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output omit-xml-declaration="yes" indent="yes"/>
  <xsl:template match="node()|@*">
    <xsl:copy><xsl:apply-templates select="node()|@*"/></xsl:copy>
  </xsl:template>
  <xsl:template match="/domain/devices/console[target/@type='serial']">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()[not(self::log)]"/>
      <log file={log} append="on"/>
    </xsl:copy>
  </xsl:template>
  <xsl:template match="/domain/devices/disk[@device='disk']/driver">
    <xsl:copy>
      <xsl:apply-templates select="@*[name()!='cache']"/>
      <xsl:attribute name="cache">{disk_cache}</xsl:attribute>
    </xsl:copy>
  </xsl:template>
</xsl:stylesheet>
"""
