-- Users' e-mail addresses: where new voicemail messages are mailed ('' for none). The check
-- repeats the part of the application's validation (provisioning's ValidateEmail) that keeps
-- mail headers whole: no address the database holds is longer than SMTP allows or carries a
-- line break, space or control character that could add a header or a recipient. That it is
-- one bare address is checked by the application alone (net/mail parses it).

-- +goose Up
ALTER TABLE users
    ADD COLUMN email text NOT NULL DEFAULT '' CHECK (char_length(email) <= 254 AND email !~ '[[:cntrl:][:space:]]');

-- +goose Down
ALTER TABLE users DROP COLUMN email;
