-- Version 5: indexes for the admin lists' filters and search at fleet
-- scale (GET /devices?q=&model=&seen_before=&seen_after=, GET
-- /accounts?q=). The search is a case-insensitive prefix match, written
-- on PostgreSQL as `lower(column) LIKE 'prefix%'`, which an index on
-- lower(column) answers only with text_pattern_ops (whatever the
-- database's collation). The model filter is `LOWER(model) = LOWER(?)`.

-- +goose Up
CREATE INDEX IF NOT EXISTS idx_devices_label_lower ON devices (lower(label) text_pattern_ops);
CREATE INDEX IF NOT EXISTS idx_devices_model_lower ON devices (lower(model));
CREATE INDEX IF NOT EXISTS idx_devices_last_seen ON devices (last_seen);
CREATE INDEX IF NOT EXISTS idx_accounts_extension_lower ON accounts (lower(extension) text_pattern_ops);
CREATE INDEX IF NOT EXISTS idx_accounts_display_name_lower ON accounts (lower(display_name) text_pattern_ops);
CREATE INDEX IF NOT EXISTS idx_accounts_auth_user_lower ON accounts (lower(auth_user) text_pattern_ops);
