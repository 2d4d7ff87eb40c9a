-- Whether a device's secrets transfer completed decides whether its file
-- needs the credential it carried (README "Per-device credential"), so
-- recording it is a change of that device's file, for every instance's
-- cache (see 00007_phonecache_changes.sql).

-- +goose Up
CREATE TRIGGER changes_devices_complete AFTER UPDATE ON devices FOR EACH ROW WHEN (OLD.disclosure_complete IS DISTINCT FROM NEW.disclosure_complete) EXECUTE FUNCTION autoprov_change_device();

-- +goose Down
DROP TRIGGER IF EXISTS changes_devices_complete ON devices;
