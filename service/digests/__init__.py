"""Digest e-mails: what is new for a member in the network, once a day or a week."""
