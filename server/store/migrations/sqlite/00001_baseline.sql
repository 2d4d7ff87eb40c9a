-- The schema GORM AutoMigrate made up to autoprov 593256a, statement for
-- statement (sqlite_master keeps this text, so a fresh database and one the
-- old release made are identical). IF NOT EXISTS makes it a no-op on a
-- database the old release made; goose then records version 1.

-- +goose Up
CREATE TABLE IF NOT EXISTS `settings` (`id` integer PRIMARY KEY AUTOINCREMENT,`data` text);
CREATE TABLE IF NOT EXISTS `accounts` (`id` integer PRIMARY KEY AUTOINCREMENT,`extension` text NOT NULL,`display_name` text,`auth_user` text,`password` text,`created_at` datetime,`updated_at` datetime);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_accounts_extension` ON `accounts`(`extension`);
CREATE TABLE IF NOT EXISTS `devices` (`mac` text,`vendor` text,`model` text,`label` text,`state` text,`key_profile` text,`keys` text,`overrides` text,`menu_password` text,`web_password` text,`last_seen` datetime,`remote_ip` text,`user_agent` text,`firmware` text,`last_file` text,`disclosure_state` text NOT NULL DEFAULT "none",`opened_at` datetime,`expires_at` datetime,`disclosed_at` datetime,`disclosed_ip` text,`disclosed_ua` text,`reserved_by` text,`reserved_until` datetime,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`mac`));
CREATE INDEX IF NOT EXISTS `idx_devices_vendor` ON `devices`(`vendor`);
CREATE INDEX IF NOT EXISTS `idx_devices_model` ON `devices`(`model`);
CREATE INDEX IF NOT EXISTS `idx_devices_state` ON `devices`(`state`);
CREATE INDEX IF NOT EXISTS `idx_devices_key_profile` ON `devices`(`key_profile`);
CREATE INDEX IF NOT EXISTS `idx_devices_disclosure_state` ON `devices`(`disclosure_state`);
CREATE TABLE IF NOT EXISTS `device_accounts` (`device_mac` text,`position` integer,`account_id` integer NOT NULL,PRIMARY KEY (`device_mac`,`position`),CONSTRAINT `fk_device_accounts_device` FOREIGN KEY (`device_mac`) REFERENCES `devices`(`mac`) ON DELETE CASCADE,CONSTRAINT `fk_device_accounts_account` FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON DELETE RESTRICT);
CREATE INDEX IF NOT EXISTS `idx_device_accounts_account_id` ON `device_accounts`(`account_id`);
CREATE TABLE IF NOT EXISTS `key_profiles` (`name` text,`description` text,`keys` text,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`name`));
CREATE TABLE IF NOT EXISTS `audit` (`id` integer PRIMARY KEY AUTOINCREMENT,`at` datetime,`mac` text,`event` text,`actor` text,`detail` text);
CREATE INDEX IF NOT EXISTS `idx_audit_at` ON `audit`(`at`);
CREATE INDEX IF NOT EXISTS `idx_audit_mac` ON `audit`(`mac`);
