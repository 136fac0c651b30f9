"""The notify service's pure rules: what a subscription matches, how a delivery is signed and
retried, which targets are refused."""
