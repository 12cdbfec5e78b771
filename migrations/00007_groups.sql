-- Ring groups: a number of the same plan as users' extensions and rooms' numbers that rings
-- several users, all at once or one after the other, and sends the call somewhere else when
-- none of them answers. The checks repeat the application's validation (provisioning's
-- ValidateGroup), so that no stored group can give call control something other than digits to
-- dial.
--
-- A group's number is claimed in numbers by a trigger, as users' and rooms' are (see
-- 00006_rooms.sql): a clash of any two kinds is a unique violation on numbers_pkey, race-free.
--
-- Members are rows of group_members that reference users: a member who is not a user is a
-- foreign key violation on group_members_extension_fkey, and deleting a user removes them from
-- every group in the same transaction.
--
-- Calls also say whose phone answered them (a member of a group, the callee, the user a forward
-- reached): answered_by.

-- +goose Up
CREATE TABLE groups (
    number           text        PRIMARY KEY CHECK (number ~ '^[0-9]{2,6}$'),
    name             text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64
                                                 AND name !~ '[[:cntrl:];\[\]#",=<>\\${}]'),
    strategy         text        NOT NULL CHECK (strategy IN ('ring_all', 'hunt')),
    ring_seconds     integer     NOT NULL CHECK (ring_seconds BETWEEN 5 AND 120),
    timeout          integer     NOT NULL CHECK (timeout BETWEEN 5 AND 600),
    no_answer_kind   text        NOT NULL CHECK (no_answer_kind IN ('hangup', 'voicemail', 'number')),
    no_answer_number text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- Hanging up goes nowhere; a mailbox or a number is one of the plan.
    CONSTRAINT groups_no_answer_number CHECK (CASE WHEN no_answer_kind = 'hangup' THEN no_answer_number = ''
                                                   ELSE no_answer_number ~ '^[0-9]{2,6}$' END),
    -- A group that sent its unanswered calls to itself would ring its members forever.
    CONSTRAINT groups_no_answer_not_self CHECK (no_answer_number <> number)
);

-- Groups are listed the way people read numbers: shorter first, then by digits.
CREATE INDEX groups_order ON groups (char_length(number), number);

-- The members of a group, in hunting order (position ascending; gaps are left where deleted
-- users were).
CREATE TABLE group_members (
    group_number text    NOT NULL,
    position     integer NOT NULL CHECK (position >= 0),
    extension    text    NOT NULL,
    CONSTRAINT group_members_group_number_fkey FOREIGN KEY (group_number)
        REFERENCES groups (number) ON DELETE CASCADE,
    CONSTRAINT group_members_extension_fkey FOREIGN KEY (extension)
        REFERENCES users (extension) ON DELETE CASCADE,
    PRIMARY KEY (group_number, extension),
    UNIQUE (group_number, position)
);

-- Deleting a user looks up their memberships by extension.
CREATE INDEX group_members_extension ON group_members (extension);

ALTER TABLE numbers DROP CONSTRAINT numbers_kind_check,
    ADD CONSTRAINT numbers_kind_check CHECK (kind IN ('user', 'room', 'group'));

-- As for users and rooms: the number of a group never changes.
-- +goose StatementBegin
CREATE FUNCTION groups_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO numbers (number, kind) VALUES (NEW.number, 'group');
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM numbers WHERE number = OLD.number AND kind = 'group';
    ELSIF NEW.number <> OLD.number THEN
        RAISE EXCEPTION 'the number of a group cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'numbers_fixed';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER groups_number AFTER INSERT OR DELETE OR UPDATE OF number ON groups
    FOR EACH ROW EXECUTE FUNCTION groups_number();

-- The extension whose phone answered; '' when none did (or not yet).
ALTER TABLE calls ADD COLUMN answered_by text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE calls DROP COLUMN answered_by;
DROP TRIGGER groups_number ON groups;
DROP FUNCTION groups_number();
DROP TABLE group_members;
DROP TABLE groups;
DELETE FROM numbers WHERE kind = 'group';
ALTER TABLE numbers DROP CONSTRAINT numbers_kind_check,
    ADD CONSTRAINT numbers_kind_check CHECK (kind IN ('user', 'room'));
