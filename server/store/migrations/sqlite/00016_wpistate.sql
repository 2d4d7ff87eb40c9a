-- Version 16: what the server keeps of each dialogue phone (OpenStage)
-- between sessions, so that a restart or another instance sees it
-- (server/store/dialogue.go): the pending job (since when, and a count of
-- jobs queued, so a session clears only the job it delivered), the items
-- the phone reported (JSON object) and refused last (JSON array), and the
-- last contact-me (the 300 s contact gap). Times are Unix milliseconds,
-- 0 for none (compared in SQL the same way on both dialects). Deleted
-- with the device. Not an input of any phone file (dialogue answers and
-- DCMP polls are never cached): no change-log trigger.

-- +goose Up
CREATE TABLE dialogue_state (
    mac text NOT NULL PRIMARY KEY REFERENCES devices (mac) ON DELETE CASCADE,
    pending_since integer NOT NULL DEFAULT 0,
    job integer NOT NULL DEFAULT 0,
    last_contact integer NOT NULL DEFAULT 0,
    reported text NOT NULL DEFAULT '{}',
    failed text NOT NULL DEFAULT '[]'
);
