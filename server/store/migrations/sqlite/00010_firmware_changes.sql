-- A firmware target (set, changed, deleted; a stage widened) can change
-- what every device of a model gets: it logs a change of every device, as
-- settings do (see 00007_phonecache_changes.sql).

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER `changes_firmware_targets_insert` AFTER INSERT ON `firmware_targets` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_firmware_targets_update` AFTER UPDATE ON `firmware_targets` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `changes_firmware_targets_delete` AFTER DELETE ON `firmware_targets` BEGIN INSERT INTO `changes`(`mac`) VALUES (''); END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER IF EXISTS `changes_firmware_targets_insert`;
DROP TRIGGER IF EXISTS `changes_firmware_targets_update`;
DROP TRIGGER IF EXISTS `changes_firmware_targets_delete`;
