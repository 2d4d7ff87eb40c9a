-- Whether the transfer that carried a window's secrets completed: NULL
-- while it is in flight (or before any), true when the phone got the whole
-- file, false when it broke off after the first secret-bearing bytes had
-- left. The window is consumed either way; see server/store/README.md.
-- Releases before this one consumed a window only when its transfer had
-- completed, so their consumed windows are complete.

-- +goose Up
ALTER TABLE devices ADD COLUMN disclosure_complete boolean;
UPDATE devices SET disclosure_complete = true WHERE disclosure_state = 'consumed';
