-- Version 7: redirect services and onboarding (redirect/README.md).
-- devices.onboarding_*: the stored onboarding state (local when empty;
-- provisioned and applied are derived from the disclosure and the
-- credential when read). redirect_services: one row per vendor redirect
-- service, its password a secret column (sealed). redirect_jobs: the
-- persistent queue of registrations, one per service and MAC (the last
-- wish wins), retried with backoff. redirect_rules: MACs and prefixes sent
-- on to another provisioning server.

-- +goose Up
ALTER TABLE devices ADD COLUMN onboarding_state text NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN onboarding_service text NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN onboarding_detail text NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN onboarding_at timestamptz;
CREATE INDEX idx_devices_onboarding_state ON devices(onboarding_state);
CREATE TABLE redirect_services (name text PRIMARY KEY,enabled boolean NOT NULL DEFAULT false,url text NOT NULL DEFAULT '',username text NOT NULL DEFAULT '',password text NOT NULL DEFAULT '',server_name text NOT NULL DEFAULT '',provision_url text NOT NULL DEFAULT '',updated_at timestamptz);
CREATE TABLE redirect_jobs (id bigserial PRIMARY KEY,service text NOT NULL,mac text NOT NULL,op text NOT NULL,attempts integer NOT NULL DEFAULT 0,next_at timestamptz NOT NULL,last_error text NOT NULL DEFAULT '',actor text NOT NULL DEFAULT '',created_at timestamptz NOT NULL);
CREATE UNIQUE INDEX idx_redirect_jobs_service_mac ON redirect_jobs(service,mac);
CREATE INDEX idx_redirect_jobs_next_at ON redirect_jobs(next_at);
CREATE TABLE redirect_rules (id bigserial PRIMARY KEY,match text NOT NULL,target text NOT NULL,created_at timestamptz NOT NULL,created_by text NOT NULL DEFAULT '');
