"""Renderers of what goes onto machines: dnsmasq files, bridge and BMC scripts, cloud-init, libvirt XSLT,
filling the real script files in files/. They read the core; no Pulumi, no tool."""
