-- Version 5: indexes for the admin lists' filters and search at fleet
-- scale (GET /devices?q=&model=&seen_before=&seen_after=, GET
-- /accounts?q=). The search is a case-insensitive prefix match, written
-- on SQLite as `column LIKE 'prefix%'`, which SQLite answers from an index
-- only when the index collates the column NOCASE (case_sensitive_like
-- off, the default). The model filter is `LOWER(model) = LOWER(?)`.

-- +goose Up
CREATE INDEX IF NOT EXISTS `idx_devices_label_nocase` ON `devices`(`label` COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS `idx_devices_model_lower` ON `devices`(lower(`model`));
CREATE INDEX IF NOT EXISTS `idx_devices_last_seen` ON `devices`(`last_seen`);
CREATE INDEX IF NOT EXISTS `idx_accounts_extension_nocase` ON `accounts`(`extension` COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS `idx_accounts_display_name_nocase` ON `accounts`(`display_name` COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS `idx_accounts_auth_user_nocase` ON `accounts`(`auth_user` COLLATE NOCASE);
