#!/bin/sh
# First start of the postgres service: the role that owns LabTrack's tables (it runs the
# migrations) and the application's role (which owns nothing; migrate grants it its rights).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$DATABASE_OWNER_PASSWORD" -v app_password="$DATABASE_APP_PASSWORD" <<'SQL'
CREATE ROLE labtrack_owner LOGIN CREATEDB PASSWORD :'owner_password';
CREATE ROLE labtrack_app LOGIN PASSWORD :'app_password';
ALTER DATABASE labtrack OWNER TO labtrack_owner;
SQL
