"""The coordinator's view of the network: topics nobody covers, how requests flow, who is
reachable."""
