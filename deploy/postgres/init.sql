-- Development databases for docker-compose: one database and one login role per service.
-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d).
-- Each service owns its data (ARCHITECTURE.md, "Data"): a role can connect only to its own
-- database, so no service can read another's tables. The passwords are development values
-- and must match the *_DATABASE_URL variables in docker-compose.yml; production databases
-- are provisioned by the platform team, not by this script.

CREATE ROLE incident  LOGIN PASSWORD 'incident';
CREATE ROLE change    LOGIN PASSWORD 'change';
CREATE ROLE config    LOGIN PASSWORD 'config';
CREATE ROLE supplier  LOGIN PASSWORD 'supplier';
CREATE ROLE reporting LOGIN PASSWORD 'reporting';
CREATE ROLE notify    LOGIN PASSWORD 'notify';

-- The owner may create tables in the public schema (PostgreSQL 15+ gives public to the
-- database owner), which is what the Alembic migrations need.
CREATE DATABASE incident  OWNER incident;
CREATE DATABASE change    OWNER change;
CREATE DATABASE config    OWNER config;
CREATE DATABASE supplier  OWNER supplier;
CREATE DATABASE reporting OWNER reporting;
CREATE DATABASE notify    OWNER notify;

REVOKE ALL ON DATABASE incident  FROM PUBLIC;
REVOKE ALL ON DATABASE change    FROM PUBLIC;
REVOKE ALL ON DATABASE config    FROM PUBLIC;
REVOKE ALL ON DATABASE supplier  FROM PUBLIC;
REVOKE ALL ON DATABASE reporting FROM PUBLIC;
REVOKE ALL ON DATABASE notify    FROM PUBLIC;
