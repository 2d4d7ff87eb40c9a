-- Version 7: firmware rollout (firmware/README.md, README "Firmware").
-- firmware_targets gets what a rollout needs: stage (a percentage of the
-- model's devices), stage_macs (an explicit list, JSON; overrides stage),
-- immediate (offered outside the maintenance window too), exclude (a
-- device kept off every rollout: it names no firmware, so firmware_id
-- becomes nullable), updated_at/updated_by; and one row per model or
-- device (unique vendor, model, mac).

-- +goose Up
ALTER TABLE firmware_targets ALTER COLUMN firmware_id DROP NOT NULL;
ALTER TABLE firmware_targets ADD COLUMN stage integer NOT NULL DEFAULT 100;
ALTER TABLE firmware_targets ADD COLUMN stage_macs text NOT NULL DEFAULT '';
ALTER TABLE firmware_targets ADD COLUMN immediate boolean NOT NULL DEFAULT false;
ALTER TABLE firmware_targets ADD COLUMN exclude boolean NOT NULL DEFAULT false;
ALTER TABLE firmware_targets ADD COLUMN updated_at timestamptz;
ALTER TABLE firmware_targets ADD COLUMN updated_by text NOT NULL DEFAULT '';
UPDATE firmware_targets SET updated_at = created_at;
CREATE UNIQUE INDEX idx_firmware_targets_key ON firmware_targets(vendor,model,mac);
