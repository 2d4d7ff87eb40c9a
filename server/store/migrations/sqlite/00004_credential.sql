-- Version 4: the per-device provisioning credential and the TFTP exception.
-- credential_state is none, issued or applied (the API shows "unsupported"
-- for a driver that renders none; that is not stored). credential_password
-- is a secret column, sealed like the others (server/store/sealed.go); the
-- user name is the device's MAC. Re-opening the disclosure window resets
-- all of it to none. tftp_allowed lets a device whose credential is
-- applied still fetch its per-device file over TFTP.

-- +goose Up
ALTER TABLE `devices` ADD COLUMN `credential_state` text NOT NULL DEFAULT 'none';
ALTER TABLE `devices` ADD COLUMN `credential_password` text NOT NULL DEFAULT '';
ALTER TABLE `devices` ADD COLUMN `credential_issued_at` datetime;
ALTER TABLE `devices` ADD COLUMN `credential_applied_at` datetime;
ALTER TABLE `devices` ADD COLUMN `tftp_allowed` numeric NOT NULL DEFAULT 0;
