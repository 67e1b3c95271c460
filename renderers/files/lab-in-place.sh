#!/bin/sh
# shellcheck shell=sh
# The destroy guard's create: nothing to do but say the lab is there (its delete is
# dnsmasq-refuse-while-clusters.sh, which runs before anything else of the lab is deleted).
echo 'ocplab: lab in place'
