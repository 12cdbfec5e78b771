-- Call settings of users (call waiting, do not disturb, several phones, forwards) and what the
-- call records say about forwarding. The checks repeat the application's validation: a
-- forward's destination is a number of the dial plan (digits only), so nothing stored here can
-- break the generated dialplan.

-- +goose Up
ALTER TABLE users
    ADD COLUMN call_waiting boolean NOT NULL DEFAULT true,
    ADD COLUMN dnd boolean NOT NULL DEFAULT false,
    ADD COLUMN max_devices integer NOT NULL DEFAULT 3 CHECK (max_devices BETWEEN 1 AND 10),
    ADD COLUMN forward_unconditional text NOT NULL DEFAULT '' CHECK (forward_unconditional ~ '^([0-9]{2,6})?$'),
    ADD COLUMN forward_unconditional_on boolean NOT NULL DEFAULT false,
    ADD COLUMN forward_busy text NOT NULL DEFAULT '' CHECK (forward_busy ~ '^([0-9]{2,6})?$'),
    ADD COLUMN forward_busy_on boolean NOT NULL DEFAULT false,
    ADD COLUMN forward_no_answer text NOT NULL DEFAULT '' CHECK (forward_no_answer ~ '^([0-9]{2,6})?$'),
    ADD COLUMN forward_no_answer_on boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT forwards_have_destinations CHECK (
        (NOT forward_unconditional_on OR forward_unconditional <> '') AND
        (NOT forward_busy_on OR forward_busy <> '') AND
        (NOT forward_no_answer_on OR forward_no_answer <> '')),
    ADD CONSTRAINT forwards_not_to_self CHECK (
        forward_unconditional <> extension AND forward_busy <> extension AND forward_no_answer <> extension);

-- The users a call was forwarded through, in order, after the dialled one (empty when it was not).
ALTER TABLE calls ADD COLUMN forwarded_to text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE calls DROP COLUMN forwarded_to;
ALTER TABLE users
    DROP CONSTRAINT forwards_not_to_self,
    DROP CONSTRAINT forwards_have_destinations,
    DROP COLUMN forward_no_answer_on, DROP COLUMN forward_no_answer,
    DROP COLUMN forward_busy_on, DROP COLUMN forward_busy,
    DROP COLUMN forward_unconditional_on, DROP COLUMN forward_unconditional,
    DROP COLUMN max_devices, DROP COLUMN dnd, DROP COLUMN call_waiting;
