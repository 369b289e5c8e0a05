#!/bin/sh
# Runs once, when the postgres container creates its data directory: the owner role (runs
# migrations, owns the tables) and the application role (row-level security applies to it).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE helpdesk_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '${HELPDESK_OWNER_PASSWORD}';
CREATE ROLE helpdesk_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '${HELPDESK_APP_PASSWORD}';
CREATE DATABASE helpdesk OWNER helpdesk_owner;
SQL
# The full-text match and the trigram word match are safe to mark LEAKPROOF (they only answer
# true or false): row-level security then lets the search indexes serve them (see
# helpdesk/devservices.py).
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname helpdesk <<SQL
ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER FUNCTION word_similarity_commutator_op(text, text) LEAKPROOF;
SQL
