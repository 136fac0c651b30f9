"""The common library of the ITSM suite: mechanism every service shares, never a service's rules."""
