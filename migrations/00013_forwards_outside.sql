-- Forwards may lead to outside numbers (through the outbound routes the forwarding user may
-- use): a destination is an extension or 2 to 20 digits with an optional leading +, as the
-- application's validation says. Nothing else can reach the realtime table the fallback
-- dialplan reads.

-- +goose Up
ALTER TABLE users
    DROP CONSTRAINT users_forward_unconditional_check,
    DROP CONSTRAINT users_forward_busy_check,
    DROP CONSTRAINT users_forward_no_answer_check,
    ADD CONSTRAINT users_forward_unconditional_check CHECK (forward_unconditional ~ '^(\+?[0-9]{2,20})?$'),
    ADD CONSTRAINT users_forward_busy_check CHECK (forward_busy ~ '^(\+?[0-9]{2,20})?$'),
    ADD CONSTRAINT users_forward_no_answer_check CHECK (forward_no_answer ~ '^(\+?[0-9]{2,20})?$');

-- +goose Down
UPDATE users SET forward_unconditional = '', forward_unconditional_on = false WHERE forward_unconditional !~ '^([0-9]{2,6})?$';
UPDATE users SET forward_busy = '', forward_busy_on = false WHERE forward_busy !~ '^([0-9]{2,6})?$';
UPDATE users SET forward_no_answer = '', forward_no_answer_on = false WHERE forward_no_answer !~ '^([0-9]{2,6})?$';
ALTER TABLE users
    DROP CONSTRAINT users_forward_unconditional_check,
    DROP CONSTRAINT users_forward_busy_check,
    DROP CONSTRAINT users_forward_no_answer_check,
    ADD CONSTRAINT users_forward_unconditional_check CHECK (forward_unconditional ~ '^([0-9]{2,6})?$'),
    ADD CONSTRAINT users_forward_busy_check CHECK (forward_busy ~ '^([0-9]{2,6})?$'),
    ADD CONSTRAINT users_forward_no_answer_check CHECK (forward_no_answer ~ '^([0-9]{2,6})?$');
