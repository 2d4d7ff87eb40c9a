-- Version 7: firmware rollout (firmware/README.md, README "Firmware").
-- firmware_targets gets what a rollout needs: stage (a percentage of the
-- model's devices), stage_macs (an explicit list, JSON; overrides stage),
-- immediate (offered outside the maintenance window too), exclude (a
-- device kept off every rollout: it names no firmware, so firmware_id
-- becomes nullable), updated_at/updated_by; and one row per model or
-- device (unique vendor, model, mac). SQLite cannot drop NOT NULL, so the
-- table is rebuilt (nothing references it).

-- +goose Up
CREATE TABLE `firmware_targets_v7` (`id` integer PRIMARY KEY AUTOINCREMENT,`vendor` text NOT NULL,`model` text NOT NULL DEFAULT '',`mac` text NOT NULL DEFAULT '',`firmware_id` integer,`stage` integer NOT NULL DEFAULT 100,`stage_macs` text NOT NULL DEFAULT '',`immediate` numeric NOT NULL DEFAULT 0,`exclude` numeric NOT NULL DEFAULT 0,`created_at` datetime,`updated_at` datetime,`updated_by` text NOT NULL DEFAULT '',CONSTRAINT `fk_firmware_targets_firmware` FOREIGN KEY (`firmware_id`) REFERENCES `firmware`(`id`) ON DELETE RESTRICT);
INSERT INTO `firmware_targets_v7` (`id`,`vendor`,`model`,`mac`,`firmware_id`,`created_at`,`updated_at`) SELECT `id`,`vendor`,`model`,`mac`,`firmware_id`,`created_at`,`created_at` FROM `firmware_targets`;
DROP TABLE `firmware_targets`;
ALTER TABLE `firmware_targets_v7` RENAME TO `firmware_targets`;
CREATE INDEX `idx_firmware_targets_firmware_id` ON `firmware_targets`(`firmware_id`);
CREATE UNIQUE INDEX `idx_firmware_targets_key` ON `firmware_targets`(`vendor`,`model`,`mac`);
