-- Call records: one row per call that entered the Stasis app. outcome is set as soon as it is
-- known (answered when bridged); ended_at is NULL while the call is in progress.

-- +goose Up
CREATE TABLE calls (
    id             uuid        PRIMARY KEY,
    caller         text        NOT NULL,
    callee         text        NOT NULL,
    outcome        text        NOT NULL DEFAULT ''
                               CHECK (outcome IN ('', 'answered', 'voicemail', 'missed', 'failed', 'cancelled')),
    reason         text        NOT NULL DEFAULT '',
    caller_channel text        NOT NULL,
    callee_channel text        NOT NULL DEFAULT '',
    bridge         text        NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL,
    answered_at    timestamptz,
    ended_at       timestamptz
);

CREATE INDEX calls_by_time ON calls (started_at DESC, id DESC);
CREATE INDEX calls_by_caller ON calls (caller, started_at DESC);
CREATE INDEX calls_by_callee ON calls (callee, started_at DESC);
CREATE INDEX calls_by_channel ON calls (caller_channel);
CREATE INDEX calls_active ON calls (started_at) WHERE ended_at IS NULL;

-- +goose Down
DROP TABLE calls;
