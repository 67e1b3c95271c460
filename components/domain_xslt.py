"""XSLT applied to each node's libvirt domain XML (pulumi-libvirt's `xml.xslt`).

It adds what the provider's schema lacks: the serial console logged to a file on the hypervisor
(like the seed's conserver, and how tests read what a guest did) and the disk cache mode.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

LOG_DIR = "/var/log/libvirt/qemu"


def console_log_path(domain_name: str) -> str:
    return f"{LOG_DIR}/{domain_name}-console.log"


def domain_xslt(domain_name: str, disk_cache: str) -> str:
    log = quoteattr(console_log_path(domain_name))
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
