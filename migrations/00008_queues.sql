-- Call queues: a number of the same plan as users' extensions, rooms' and groups' numbers where
-- callers wait, first come first served, until an agent takes their call, and which sends them
-- somewhere else after the maximum wait. The checks repeat the application's validation
-- (provisioning's ValidateQueue), so that no stored queue can give call control something other
-- than digits to dial.
--
-- A queue's number is claimed in numbers by a trigger, as users', rooms' and groups' are (see
-- 00006_rooms.sql): a clash of any two kinds is a unique violation on numbers_pkey, race-free.
--
-- Agents are rows of queue_agents that reference users, as group members are (see
-- 00007_groups.sql), with whether they are logged in: a deleted user leaves every queue in the
-- transaction that deletes them, and their login goes with them.

-- +goose Up
CREATE TABLE queues (
    number           text        PRIMARY KEY CHECK (number ~ '^[0-9]{2,6}$'),
    name             text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64
                                                 AND name !~ '[[:cntrl:];\[\]#",=<>\\${}]'),
    strategy         text        NOT NULL CHECK (strategy IN ('ring_all', 'round_robin', 'least_recent', 'fewest_calls')),
    ring_seconds     integer     NOT NULL CHECK (ring_seconds BETWEEN 5 AND 120),
    max_wait         integer     NOT NULL CHECK (max_wait BETWEEN 10 AND 3600),
    no_answer_kind   text        NOT NULL CHECK (no_answer_kind IN ('hangup', 'voicemail', 'number')),
    no_answer_number text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- Hanging up goes nowhere; a mailbox or a number is one of the plan.
    CONSTRAINT queues_no_answer_number CHECK (CASE WHEN no_answer_kind = 'hangup' THEN no_answer_number = ''
                                                   ELSE no_answer_number ~ '^[0-9]{2,6}$' END),
    -- A queue that sent its callers who waited too long back to itself would keep them forever.
    CONSTRAINT queues_no_answer_not_self CHECK (no_answer_number <> number)
);

-- Queues are listed the way people read numbers: shorter first, then by digits.
CREATE INDEX queues_order ON queues (char_length(number), number);

-- The agents of a queue, in order (position ascending; gaps are left where deleted users were),
-- and whether each is logged in now. Logins are kept here rather than in call control's memory
-- so that they outlive a restart of the control plane, as an agent expects of *45.
CREATE TABLE queue_agents (
    queue_number text    NOT NULL,
    position     integer NOT NULL CHECK (position >= 0),
    extension    text    NOT NULL,
    logged_in    boolean NOT NULL DEFAULT false,
    CONSTRAINT queue_agents_queue_number_fkey FOREIGN KEY (queue_number)
        REFERENCES queues (number) ON DELETE CASCADE,
    CONSTRAINT queue_agents_extension_fkey FOREIGN KEY (extension)
        REFERENCES users (extension) ON DELETE CASCADE,
    PRIMARY KEY (queue_number, extension),
    UNIQUE (queue_number, position)
);

-- Deleting a user, and *45, look up an agent's queues by extension.
CREATE INDEX queue_agents_extension ON queue_agents (extension);

ALTER TABLE numbers DROP CONSTRAINT numbers_kind_check,
    ADD CONSTRAINT numbers_kind_check CHECK (kind IN ('user', 'room', 'group', 'queue'));

-- As for users, rooms and groups: the number of a queue never changes.
-- +goose StatementBegin
CREATE FUNCTION queues_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO numbers (number, kind) VALUES (NEW.number, 'queue');
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM numbers WHERE number = OLD.number AND kind = 'queue';
    ELSIF NEW.number <> OLD.number THEN
        RAISE EXCEPTION 'the number of a queue cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'numbers_fixed';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER queues_number AFTER INSERT OR DELETE OR UPDATE OF number ON queues
    FOR EACH ROW EXECUTE FUNCTION queues_number();

-- +goose Down
DROP TRIGGER queues_number ON queues;
DROP FUNCTION queues_number();
DROP TABLE queue_agents;
DROP TABLE queues;
DELETE FROM numbers WHERE kind = 'queue';
ALTER TABLE numbers DROP CONSTRAINT numbers_kind_check,
    ADD CONSTRAINT numbers_kind_check CHECK (kind IN ('user', 'room', 'group'));
