# Shared by the guest's scripts: one way to print a machine-readable line.
# Always to /dev/console, so background jobs (udhcpc) reach the serial log too.
say() { echo "OCPLAB: $*" >/dev/console; }
