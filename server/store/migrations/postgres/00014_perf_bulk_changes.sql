-- Version 9: a bulk change (server/store/bulk.go, WriteBulk) of many rows
-- logs one change, "everything" (mac ''), instead of a row per device and
-- account: while its transaction holds a row in changes_paused, the
-- change-log triggers of version 7 add nothing. It adds that row after
-- logging its own '' change and deletes it before it commits, so no other
-- transaction ever sees it (PostgreSQL shows no one an uncommitted row; on
-- SQLite one writer runs at a time and readers see only committed rows),
-- and every other write logs its changes as before.

-- +goose Up
CREATE TABLE changes_paused (id integer NOT NULL);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION autoprov_change(mac text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM changes_paused) THEN
    RETURN;
  END IF;
  UPDATE revision SET rev = rev + 1, xid = txid_current() WHERE id = 1 AND xid <> txid_current();
  SELECT rev INTO r FROM revision WHERE id = 1;
  INSERT INTO changes (rev, mac) VALUES (r, mac);
END $$;
-- +goose StatementEnd
