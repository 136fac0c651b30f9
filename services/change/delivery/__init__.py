"""Release and deployment (ISO/IEC 20000-1 9.3) and standard change templates (9.2).

The same role-named files as the service around it: `domain.py` (pure rules), `store.py`
(tables on the change service's metadata), `events.py`, `usecases.py`, `schemas.py`, `api.py`.
Releases, deployments per environment, pipeline notifications (a generic JSON and
GitHub's `deployment_status` webhook), the deployment gate, and the templates that make standard
changes. Incidents linked to changes are consumed once, by the service's own worker, into
`change_incident_link`; the release and deployment views read that table.
"""
