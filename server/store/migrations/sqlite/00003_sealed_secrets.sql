-- Version 3: the secret columns (accounts.password, devices.menu_password,
-- devices.web_password) hold values sealed with AES-256-GCM ("v1:<key id>:..."),
-- no longer plain text. No column changes: Open seals the existing values in Go
-- right after the migrations, under the same lock (server/store/sealed.go). The
-- version is here so that an autoprov from before it, which would read a sealed
-- value as the password itself, refuses this database (SchemaTooNewError).

-- +goose Up
SELECT 1;
