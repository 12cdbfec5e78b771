-- Transfers: a call a transfer made names the call it came from.

-- +goose Up
ALTER TABLE calls ADD COLUMN transferred_from text NOT NULL DEFAULT '';
CREATE INDEX calls_transferred_from ON calls (transferred_from) WHERE transferred_from <> '';

-- +goose Down
DROP INDEX calls_transferred_from;
ALTER TABLE calls DROP COLUMN transferred_from;
