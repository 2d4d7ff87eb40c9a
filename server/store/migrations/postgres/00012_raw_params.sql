-- Version 12: raw vendor parameters (vendors/README.md, "Raw parameters").
-- A device's and a key profile's parameters are a JSON list in their own
-- row (params, NULL: none); a model's live in model_params, one row per
-- vendor and model.

-- +goose Up
ALTER TABLE devices ADD COLUMN params text;
ALTER TABLE key_profiles ADD COLUMN params text;
CREATE TABLE model_params (vendor text NOT NULL,model text NOT NULL,params text,updated_at timestamptz,PRIMARY KEY (vendor,model));

-- A model's parameters change what every device of it gets; a device's own
-- parameters what it gets (the change log, 00007_phonecache_changes.sql;
-- key profiles are logged already).
CREATE TRIGGER changes_model_params AFTER INSERT OR UPDATE OR DELETE ON model_params FOR EACH ROW EXECUTE FUNCTION autoprov_change_all();
CREATE TRIGGER changes_devices_params AFTER UPDATE ON devices FOR EACH ROW WHEN (OLD.params IS DISTINCT FROM NEW.params) EXECUTE FUNCTION autoprov_change_device();
