-- Version 12: raw vendor parameters (vendors/README.md, "Raw parameters").
-- A device's and a key profile's parameters are a JSON list in their own
-- row (params, NULL: none); a model's live in model_params, one row per
-- vendor and model.

-- +goose Up
ALTER TABLE `devices` ADD COLUMN `params` text;
ALTER TABLE `key_profiles` ADD COLUMN `params` text;
CREATE TABLE `model_params` (`vendor` text NOT NULL,`model` text NOT NULL,`params` text,`updated_at` datetime,PRIMARY KEY (`vendor`,`model`));

-- A model's parameters change what every device of it gets; a device's own
-- parameters what it gets (the change log, 00007_phonecache_changes.sql;
-- key profiles are logged already).
-- +goose StatementBegin
CREATE TRIGGER `changes_model_params_insert` AFTER INSERT ON `model_params` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `changes_model_params_update` AFTER UPDATE ON `model_params` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `changes_model_params_delete` AFTER DELETE ON `model_params` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `changes_devices_params` AFTER UPDATE OF `params` ON `devices` WHEN OLD.`params` IS NOT NEW.`params` BEGIN INSERT INTO `changes`(`mac`) VALUES (NEW.`mac`); END;
-- +goose StatementEnd
