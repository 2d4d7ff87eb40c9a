-- Whether a device's secrets transfer completed decides whether its file
-- needs the credential it carried (README "Per-device credential"), so
-- recording it is a change of that device's file, for every instance's
-- cache (see 00007_phonecache_changes.sql).

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER `changes_devices_complete` AFTER UPDATE OF `disclosure_complete` ON `devices` WHEN OLD.`disclosure_complete` IS NOT NEW.`disclosure_complete` BEGIN INSERT INTO `changes`(`mac`) VALUES (NEW.`mac`); END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER IF EXISTS `changes_devices_complete`;
