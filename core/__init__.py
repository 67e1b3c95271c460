"""The pure core: lab and cluster models, address/BMC/capacity planning, the design, the lab-to-cluster
contract. No Pulumi, no renderer, no tool, no bench, no simulated lab."""
