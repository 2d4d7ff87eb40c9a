-- The schema GORM AutoMigrate made up to autoprov 593256a: the same
-- tables, columns, types, defaults, keys, constraint and index names
-- (bigserial is what GORM used for the uint IDs: a bigint column fed by
-- <table>_id_seq). IF NOT EXISTS makes it a no-op on a database the old
-- release made; goose then records version 1. Runs in one transaction.

-- +goose Up
CREATE TABLE IF NOT EXISTS settings (
    id bigserial,
    data text,
    PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS accounts (
    id bigserial,
    extension text NOT NULL,
    display_name text,
    auth_user text,
    password text,
    created_at timestamptz,
    updated_at timestamptz,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_accounts_extension ON accounts (extension);

CREATE TABLE IF NOT EXISTS devices (
    mac text,
    vendor text,
    model text,
    label text,
    state text,
    key_profile text,
    keys text,
    overrides text,
    menu_password text,
    web_password text,
    last_seen timestamptz,
    remote_ip text,
    user_agent text,
    firmware text,
    last_file text,
    disclosure_state text NOT NULL DEFAULT 'none',
    opened_at timestamptz,
    expires_at timestamptz,
    disclosed_at timestamptz,
    disclosed_ip text,
    disclosed_ua text,
    reserved_by text,
    reserved_until timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    PRIMARY KEY (mac)
);
CREATE INDEX IF NOT EXISTS idx_devices_vendor ON devices (vendor);
CREATE INDEX IF NOT EXISTS idx_devices_model ON devices (model);
CREATE INDEX IF NOT EXISTS idx_devices_state ON devices (state);
CREATE INDEX IF NOT EXISTS idx_devices_key_profile ON devices (key_profile);
CREATE INDEX IF NOT EXISTS idx_devices_disclosure_state ON devices (disclosure_state);

CREATE TABLE IF NOT EXISTS device_accounts (
    device_mac text,
    "position" bigint,
    account_id bigint NOT NULL,
    PRIMARY KEY (device_mac, "position"),
    CONSTRAINT fk_device_accounts_device FOREIGN KEY (device_mac) REFERENCES devices (mac) ON DELETE CASCADE,
    CONSTRAINT fk_device_accounts_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS idx_device_accounts_account_id ON device_accounts (account_id);

CREATE TABLE IF NOT EXISTS key_profiles (
    name text,
    description text,
    keys text,
    created_at timestamptz,
    updated_at timestamptz,
    PRIMARY KEY (name)
);

CREATE TABLE IF NOT EXISTS audit (
    id bigserial,
    at timestamptz,
    mac text,
    event text,
    actor text,
    detail text,
    PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS idx_audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS idx_audit_mac ON audit (mac);
