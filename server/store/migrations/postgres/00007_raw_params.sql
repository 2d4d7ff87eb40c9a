-- Version 7: raw vendor parameters (vendors/README.md, "Raw parameters").
-- A device's and a key profile's parameters are a JSON list in their own
-- row (params, NULL: none); a model's live in model_params, one row per
-- vendor and model.

-- +goose Up
ALTER TABLE devices ADD COLUMN params text;
ALTER TABLE key_profiles ADD COLUMN params text;
CREATE TABLE model_params (vendor text NOT NULL,model text NOT NULL,params text,updated_at timestamptz,PRIMARY KEY (vendor,model));
