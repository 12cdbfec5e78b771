-- Users: one row per extension. The checks repeat the application's validation so that no
-- row the database holds can ever render into broken Asterisk configuration.

-- +goose Up
CREATE TABLE users (
    extension         text        PRIMARY KEY CHECK (extension ~ '^[0-9]{2,6}$'),
    name              text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64
                                                  AND name !~ '[[:cntrl:];\[\]#",=<>\\${}]'),
    -- HA1 digests of "extension:realm:password"; the password itself is never stored.
    digest_md5        text        NOT NULL CHECK (digest_md5 ~ '^[0-9a-f]{32}$'),
    digest_sha256     text        NOT NULL CHECK (digest_sha256 ~ '^[0-9a-f]{64}$'),
    voicemail_enabled boolean     NOT NULL,
    voicemail_pin     text        NOT NULL CHECK (voicemail_pin ~ '^([0-9]{4,10})?$'),
    ring_timeout      integer     NOT NULL CHECK (ring_timeout BETWEEN 5 AND 120),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT voicemail_enabled OR voicemail_pin <> '')
);

-- Pages are ordered the way people read extensions: shorter first, then by digits.
CREATE INDEX users_page ON users (char_length(extension), extension);

-- +goose Down
DROP TABLE users;
