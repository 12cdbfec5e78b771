-- The outbox of voicemail e-mail: one row per message to mail, kept until it is sent, refused
-- for good or its message is deleted, so that a mail server that is down (or a restart of the
-- control plane) delays a letter and never loses or repeats it. A sender claims due rows by
-- moving next_attempt past a lease; a sender that dies leaves them due again after it.

-- +goose Up
CREATE TABLE voicemail_mail (
    mailbox text NOT NULL CHECK (mailbox ~ '^[0-9]{2,6}$'),
    message_id text NOT NULL CHECK (message_id ~ '^[0-9]{1,20}-[0-9a-f]{8}$'),
    recipient text NOT NULL CHECK (char_length(recipient) <= 254 AND recipient !~ '[[:cntrl:][:space:]]'),
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt timestamptz NOT NULL DEFAULT now(),
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz,
    PRIMARY KEY (mailbox, message_id)
);
CREATE INDEX voicemail_mail_due ON voicemail_mail (next_attempt) WHERE state = 'pending';

-- +goose Down
DROP TABLE voicemail_mail;
