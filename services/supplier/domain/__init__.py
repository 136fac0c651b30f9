"""The supplier domain, by area: suppliers, contracts and their terms, performance, governance, disputes."""
