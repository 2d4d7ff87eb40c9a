-- Whether the transfer that carried a window's secrets completed: NULL
-- while it is in flight (or before any), 1 when the phone got the whole
-- file, 0 when it broke off after the first secret-bearing bytes had left.
-- The window is consumed either way; see server/store/README.md.
-- Releases before this one consumed a window only when its transfer had
-- completed, so their consumed windows are complete.

-- +goose Up
ALTER TABLE `devices` ADD COLUMN `disclosure_complete` numeric;
UPDATE `devices` SET `disclosure_complete` = 1 WHERE `disclosure_state` = 'consumed';
