-- Version 5: the firmware catalogue (firmware/README.md). A firmware row is
-- one upload: vendor, version, original name, size and the SHA-256 that
-- names its file under <data>/firmware/ (several rows may name one file).
-- firmware_models lists the models a row applies to; (vendor, model,
-- version) is unique, so a model's version names exactly one file.
-- firmware_targets is where a model or a device is pinned to a row (the
-- rollout fills it; deleting a row it names is refused: RESTRICT).
-- firmware_downloads keeps the last download per device and row, and how
-- many delivered the whole file. devices.remote_ip gets an index: a
-- download is matched to its device by the address it came from.

-- +goose Up
CREATE TABLE `firmware` (`id` integer PRIMARY KEY AUTOINCREMENT,`vendor` text NOT NULL,`version` text NOT NULL,`name` text NOT NULL,`size` integer NOT NULL,`sha256` text NOT NULL,`uploaded_at` datetime NOT NULL,`uploaded_by` text NOT NULL DEFAULT '');
CREATE INDEX `idx_firmware_sha256` ON `firmware`(`sha256`);
CREATE TABLE `firmware_models` (`firmware_id` integer NOT NULL,`vendor` text NOT NULL,`model` text NOT NULL,`version` text NOT NULL,PRIMARY KEY (`firmware_id`,`model`),CONSTRAINT `fk_firmware_models_firmware` FOREIGN KEY (`firmware_id`) REFERENCES `firmware`(`id`) ON DELETE CASCADE);
CREATE UNIQUE INDEX `idx_firmware_models_version` ON `firmware_models`(`vendor`,`model`,`version`);
CREATE TABLE `firmware_targets` (`id` integer PRIMARY KEY AUTOINCREMENT,`vendor` text NOT NULL,`model` text NOT NULL DEFAULT '',`mac` text NOT NULL DEFAULT '',`firmware_id` integer NOT NULL,`created_at` datetime,CONSTRAINT `fk_firmware_targets_firmware` FOREIGN KEY (`firmware_id`) REFERENCES `firmware`(`id`) ON DELETE RESTRICT);
CREATE INDEX `idx_firmware_targets_firmware_id` ON `firmware_targets`(`firmware_id`);
CREATE TABLE `firmware_downloads` (`mac` text NOT NULL,`firmware_id` integer NOT NULL,`token` text NOT NULL,`transport` text NOT NULL,`remote_ip` text NOT NULL DEFAULT '',`started_at` datetime NOT NULL,`ended_at` datetime,`bytes` integer NOT NULL DEFAULT 0,`size` integer NOT NULL DEFAULT 0,`outcome` text NOT NULL,`completed` integer NOT NULL DEFAULT 0,PRIMARY KEY (`mac`,`firmware_id`),CONSTRAINT `fk_firmware_downloads_firmware` FOREIGN KEY (`firmware_id`) REFERENCES `firmware`(`id`) ON DELETE CASCADE);
CREATE INDEX `idx_firmware_downloads_firmware_id` ON `firmware_downloads`(`firmware_id`);
CREATE INDEX `idx_devices_remote_ip` ON `devices`(`remote_ip`);
