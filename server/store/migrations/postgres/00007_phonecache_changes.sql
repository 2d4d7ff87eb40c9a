-- Version 5: the change log the phone cache follows (server/phonecache).
-- Every write that can change what a phone gets adds a row in the same
-- transaction, by trigger, whoever makes it (this server, the CLI, another
-- instance): mac names the device, '' means every device (settings,
-- accounts, key profiles). Sightings (last seen, IP, User-Agent, last file)
-- and claim bookkeeping (reserved_by, reserved_until) add none. Instances
-- poll rows above the last revision they applied and drop what changed;
-- revisions have no gaps, so a pruned range shows as one and drops all.
-- The revision is one row that a writing transaction bumps once (its
-- row lock is held until commit, so commit order is revision order; a
-- rollback takes its bump back, so there are no gaps); every row a
-- transaction logs carries its revision.

-- +goose Up
CREATE TABLE changes (rev bigint NOT NULL, mac text NOT NULL DEFAULT '');
CREATE INDEX idx_changes_rev ON changes (rev);
CREATE TABLE revision (id integer PRIMARY KEY, rev bigint NOT NULL, xid bigint NOT NULL);
INSERT INTO revision (id, rev, xid) VALUES (1, 0, 0);

-- +goose StatementBegin
CREATE FUNCTION autoprov_change(mac text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r bigint;
BEGIN
  UPDATE revision SET rev = rev + 1, xid = txid_current() WHERE id = 1 AND xid <> txid_current();
  SELECT rev INTO r FROM revision WHERE id = 1;
  INSERT INTO changes (rev, mac) VALUES (r, mac);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION autoprov_change_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM autoprov_change('');
  RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION autoprov_change_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM autoprov_change(OLD.mac);
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.mac IS DISTINCT FROM OLD.mac) THEN
    PERFORM autoprov_change(NEW.mac);
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION autoprov_change_device_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM autoprov_change(OLD.device_mac);
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.device_mac IS DISTINCT FROM OLD.device_mac) THEN
    PERFORM autoprov_change(NEW.device_mac);
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER changes_settings AFTER INSERT OR UPDATE OR DELETE ON settings FOR EACH ROW EXECUTE FUNCTION autoprov_change_all();
CREATE TRIGGER changes_accounts AFTER INSERT OR UPDATE OR DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION autoprov_change_all();
CREATE TRIGGER changes_key_profiles AFTER INSERT OR UPDATE OR DELETE ON key_profiles FOR EACH ROW EXECUTE FUNCTION autoprov_change_all();
CREATE TRIGGER changes_devices_insert_delete AFTER INSERT OR DELETE ON devices FOR EACH ROW EXECUTE FUNCTION autoprov_change_device();
CREATE TRIGGER changes_devices_update AFTER UPDATE ON devices FOR EACH ROW WHEN (OLD.mac IS DISTINCT FROM NEW.mac OR OLD.vendor IS DISTINCT FROM NEW.vendor OR OLD.model IS DISTINCT FROM NEW.model OR OLD.label IS DISTINCT FROM NEW.label OR OLD.state IS DISTINCT FROM NEW.state OR OLD.key_profile IS DISTINCT FROM NEW.key_profile OR OLD.keys IS DISTINCT FROM NEW.keys OR OLD.overrides IS DISTINCT FROM NEW.overrides OR OLD.menu_password IS DISTINCT FROM NEW.menu_password OR OLD.web_password IS DISTINCT FROM NEW.web_password OR OLD.firmware IS DISTINCT FROM NEW.firmware OR OLD.disclosure_state IS DISTINCT FROM NEW.disclosure_state OR OLD.opened_at IS DISTINCT FROM NEW.opened_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.disclosed_at IS DISTINCT FROM NEW.disclosed_at OR OLD.credential_state IS DISTINCT FROM NEW.credential_state OR OLD.credential_password IS DISTINCT FROM NEW.credential_password OR OLD.credential_issued_at IS DISTINCT FROM NEW.credential_issued_at OR OLD.credential_applied_at IS DISTINCT FROM NEW.credential_applied_at OR OLD.tftp_allowed IS DISTINCT FROM NEW.tftp_allowed) EXECUTE FUNCTION autoprov_change_device();
CREATE TRIGGER changes_device_accounts AFTER INSERT OR UPDATE OR DELETE ON device_accounts FOR EACH ROW EXECUTE FUNCTION autoprov_change_device_accounts();
