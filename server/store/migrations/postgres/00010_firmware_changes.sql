-- A firmware target (set, changed, deleted; a stage widened) can change
-- what every device of a model gets: it logs a change of every device, as
-- settings do (see 00007_phonecache_changes.sql).

-- +goose Up
CREATE TRIGGER changes_firmware_targets AFTER INSERT OR UPDATE OR DELETE ON firmware_targets FOR EACH ROW EXECUTE FUNCTION autoprov_change_all();

-- +goose Down
DROP TRIGGER IF EXISTS changes_firmware_targets ON firmware_targets;
