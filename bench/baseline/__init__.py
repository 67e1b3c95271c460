"""The same lab and clusters deployed with plain virsh and ssh: the benchmark baseline, and the way
the simulated lab proves every generated artifact on real hosts where no Pulumi engine exists."""
