-- Version 5: the change log the phone cache follows (server/phonecache).
-- Every write that can change what a phone gets adds a row in the same
-- transaction, by trigger, whoever makes it (this server, the CLI, another
-- instance): mac names the device, '' means every device (settings,
-- accounts, key profiles). Sightings (last seen, IP, User-Agent, last file)
-- and claim bookkeeping (reserved_by, reserved_until) add none. Instances
-- poll rows above the last revision they applied and drop what changed;
-- revisions have no gaps, so a pruned range shows as one and drops all.
-- Revisions are rowids: SQLite serializes writers, so commit order is
-- revision order.

-- +goose Up
CREATE TABLE `changes` (`rev` integer PRIMARY KEY AUTOINCREMENT, `mac` text NOT NULL DEFAULT '');

-- +goose StatementBegin
CREATE TRIGGER `changes_settings_insert` AFTER INSERT ON `settings` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_settings_update` AFTER UPDATE ON `settings` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_settings_delete` AFTER DELETE ON `settings` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_accounts_insert` AFTER INSERT ON `accounts` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_accounts_update` AFTER UPDATE ON `accounts` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_accounts_delete` AFTER DELETE ON `accounts` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_key_profiles_insert` AFTER INSERT ON `key_profiles` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_key_profiles_update` AFTER UPDATE ON `key_profiles` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_key_profiles_delete` AFTER DELETE ON `key_profiles` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_devices_insert` AFTER INSERT ON `devices` BEGIN INSERT INTO `changes`(`mac`) VALUES (NEW.`mac`); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_devices_update` AFTER UPDATE ON `devices` WHEN OLD.`mac` IS NOT NEW.`mac` OR OLD.`vendor` IS NOT NEW.`vendor` OR OLD.`model` IS NOT NEW.`model` OR OLD.`label` IS NOT NEW.`label` OR OLD.`state` IS NOT NEW.`state` OR OLD.`key_profile` IS NOT NEW.`key_profile` OR OLD.`keys` IS NOT NEW.`keys` OR OLD.`overrides` IS NOT NEW.`overrides` OR OLD.`menu_password` IS NOT NEW.`menu_password` OR OLD.`web_password` IS NOT NEW.`web_password` OR OLD.`firmware` IS NOT NEW.`firmware` OR OLD.`disclosure_state` IS NOT NEW.`disclosure_state` OR OLD.`opened_at` IS NOT NEW.`opened_at` OR OLD.`expires_at` IS NOT NEW.`expires_at` OR OLD.`disclosed_at` IS NOT NEW.`disclosed_at` OR OLD.`credential_state` IS NOT NEW.`credential_state` OR OLD.`credential_password` IS NOT NEW.`credential_password` OR OLD.`credential_issued_at` IS NOT NEW.`credential_issued_at` OR OLD.`credential_applied_at` IS NOT NEW.`credential_applied_at` OR OLD.`tftp_allowed` IS NOT NEW.`tftp_allowed` BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`mac`); INSERT INTO `changes`(`mac`) SELECT NEW.`mac` WHERE NEW.`mac` IS NOT OLD.`mac`; END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_devices_delete` AFTER DELETE ON `devices` BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`mac`); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_device_accounts_insert` AFTER INSERT ON `device_accounts` BEGIN INSERT INTO `changes`(`mac`) VALUES (NEW.`device_mac`); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_device_accounts_update` AFTER UPDATE ON `device_accounts` BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`device_mac`); INSERT INTO `changes`(`mac`) VALUES (NEW.`device_mac`); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_device_accounts_delete` AFTER DELETE ON `device_accounts` BEGIN INSERT INTO `changes`(`mac`) VALUES (OLD.`device_mac`); END;
-- +goose StatementEnd
