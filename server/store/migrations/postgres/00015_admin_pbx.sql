-- Version 15: whether autoprov generated an account's SIP password, so the
-- PBX side may reveal it once more (README "The PBX side of an account").
-- Accounts from before are marked not generated: nobody can tell.
-- Not an input of any phone file: no change-log trigger.

-- +goose Up
ALTER TABLE accounts ADD COLUMN password_generated boolean NOT NULL DEFAULT false;
