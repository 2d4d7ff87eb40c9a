-- Version 8: partial indexes over the secret values still in plain text
-- (written before version 3, or by an older autoprov still running beside
-- a newer one). Normally they hold no row, so Open's scan for plain text to
-- seal (server/store/sealed.go, pending) is one indexed lookup that finds
-- nothing, not a read of every secret column. The predicate is the very
-- text of that query's condition, which is how both databases know the
-- index answers it.

-- +goose Up
CREATE INDEX idx_accounts_plain_password ON accounts (extension) WHERE password <> '' AND password NOT LIKE 'v1:%';
CREATE INDEX idx_devices_plain_menu_password ON devices (mac) WHERE menu_password <> '' AND menu_password NOT LIKE 'v1:%';
CREATE INDEX idx_devices_plain_web_password ON devices (mac) WHERE web_password <> '' AND web_password NOT LIKE 'v1:%';
CREATE INDEX idx_devices_plain_credential_password ON devices (mac) WHERE credential_password <> '' AND credential_password NOT LIKE 'v1:%';
CREATE INDEX idx_redirect_services_plain_password ON redirect_services (name) WHERE password <> '' AND password NOT LIKE 'v1:%';
