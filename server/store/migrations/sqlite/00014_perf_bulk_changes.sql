-- Version 9: a bulk change (server/store/bulk.go, WriteBulk) of many rows
-- logs one change, "everything" (mac ''), instead of a row per device and
-- account: while its transaction holds a row in changes_paused, the
-- change-log triggers of version 7 add nothing. It adds that row after
-- logging its own '' change and deletes it before it commits, so no other
-- transaction ever sees it (SQLite runs one writer at a time and readers
-- see only committed rows; PostgreSQL shows no one an uncommitted row), and
-- every other write logs its changes as before.

-- +goose Up
CREATE TABLE `changes_paused` (`id` integer NOT NULL);

DROP TRIGGER `changes_settings_insert`;

-- +goose StatementBegin
CREATE TRIGGER `changes_settings_insert` AFTER INSERT ON `settings` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_settings_update`;

-- +goose StatementBegin
CREATE TRIGGER `changes_settings_update` AFTER UPDATE ON `settings` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_settings_delete`;

-- +goose StatementBegin
CREATE TRIGGER `changes_settings_delete` AFTER DELETE ON `settings` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_accounts_insert`;

-- +goose StatementBegin
CREATE TRIGGER `changes_accounts_insert` AFTER INSERT ON `accounts` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_accounts_update`;

-- +goose StatementBegin
CREATE TRIGGER `changes_accounts_update` AFTER UPDATE ON `accounts` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_accounts_delete`;

-- +goose StatementBegin
CREATE TRIGGER `changes_accounts_delete` AFTER DELETE ON `accounts` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_key_profiles_insert`;

-- +goose StatementBegin
CREATE TRIGGER `changes_key_profiles_insert` AFTER INSERT ON `key_profiles` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_key_profiles_update`;

-- +goose StatementBegin
CREATE TRIGGER `changes_key_profiles_update` AFTER UPDATE ON `key_profiles` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_key_profiles_delete`;

-- +goose StatementBegin
CREATE TRIGGER `changes_key_profiles_delete` AFTER DELETE ON `key_profiles` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

DROP TRIGGER `changes_devices_insert`;

-- +goose StatementBegin
CREATE TRIGGER `changes_devices_insert` AFTER INSERT ON `devices` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (NEW.`mac`); END;
-- +goose StatementEnd

DROP TRIGGER `changes_devices_update`;

-- +goose StatementBegin
CREATE TRIGGER `changes_devices_update` AFTER UPDATE ON `devices` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) AND (OLD.`mac` IS NOT NEW.`mac` OR OLD.`vendor` IS NOT NEW.`vendor` OR OLD.`model` IS NOT NEW.`model` OR OLD.`label` IS NOT NEW.`label` OR OLD.`state` IS NOT NEW.`state` OR OLD.`key_profile` IS NOT NEW.`key_profile` OR OLD.`keys` IS NOT NEW.`keys` OR OLD.`overrides` IS NOT NEW.`overrides` OR OLD.`menu_password` IS NOT NEW.`menu_password` OR OLD.`web_password` IS NOT NEW.`web_password` OR OLD.`firmware` IS NOT NEW.`firmware` OR OLD.`disclosure_state` IS NOT NEW.`disclosure_state` OR OLD.`opened_at` IS NOT NEW.`opened_at` OR OLD.`expires_at` IS NOT NEW.`expires_at` OR OLD.`disclosed_at` IS NOT NEW.`disclosed_at` OR OLD.`credential_state` IS NOT NEW.`credential_state` OR OLD.`credential_password` IS NOT NEW.`credential_password` OR OLD.`credential_issued_at` IS NOT NEW.`credential_issued_at` OR OLD.`credential_applied_at` IS NOT NEW.`credential_applied_at` OR OLD.`tftp_allowed` IS NOT NEW.`tftp_allowed`) BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`mac`); INSERT INTO `changes`(`mac`) SELECT NEW.`mac` WHERE NEW.`mac` IS NOT OLD.`mac`; END;
-- +goose StatementEnd

DROP TRIGGER `changes_devices_delete`;

-- +goose StatementBegin
CREATE TRIGGER `changes_devices_delete` AFTER DELETE ON `devices` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`mac`); END;
-- +goose StatementEnd

DROP TRIGGER `changes_device_accounts_insert`;

-- +goose StatementBegin
CREATE TRIGGER `changes_device_accounts_insert` AFTER INSERT ON `device_accounts` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (NEW.`device_mac`); END;
-- +goose StatementEnd

DROP TRIGGER `changes_device_accounts_update`;

-- +goose StatementBegin
CREATE TRIGGER `changes_device_accounts_update` AFTER UPDATE ON `device_accounts` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`device_mac`); INSERT INTO `changes`(`mac`) VALUES (NEW.`device_mac`); END;
-- +goose StatementEnd

DROP TRIGGER `changes_device_accounts_delete`;

-- +goose StatementBegin
CREATE TRIGGER `changes_device_accounts_delete` AFTER DELETE ON `device_accounts` WHEN NOT EXISTS (SELECT 1 FROM `changes_paused`) BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`device_mac`); END;
-- +goose StatementEnd
