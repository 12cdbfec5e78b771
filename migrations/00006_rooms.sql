-- Conference rooms: a number of the same plan as users' extensions that puts everyone who dials
-- it into one conversation. The checks repeat the application's validation (provisioning's
-- ValidateRoom), so that no stored room can break what call control asks of Asterisk.
--
-- A number belongs to one user or one room. Checking the other table before an insert would
-- race (two transactions both see the number free), so every number taken is also a row of
-- numbers, written by triggers in the transaction that takes it: of two concurrent claims the
-- second waits on numbers' primary key and fails with a unique violation on numbers_pkey.

-- +goose Up
CREATE TABLE rooms (
    number           text        PRIMARY KEY CHECK (number ~ '^[0-9]{2,6}$'),
    name             text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64
                                                 AND name !~ '[[:cntrl:];\[\]#",=<>\\${}]'),
    pin              text        NOT NULL CHECK (pin ~ '^([0-9]{4,10})?$'),
    moderator_pin    text        NOT NULL CHECK (moderator_pin ~ '^([0-9]{4,10})?$'),
    max_participants integer     NOT NULL CHECK (max_participants BETWEEN 2 AND 100),
    announce_joins   boolean     NOT NULL,
    music_when_alone boolean     NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- A moderator PIN equal to the PIN would make every participant a moderator.
    CONSTRAINT rooms_pins_differ CHECK (moderator_pin = '' OR moderator_pin <> pin)
);

-- Rooms are listed the way people read numbers: shorter first, then by digits.
CREATE INDEX rooms_order ON rooms (char_length(number), number);

-- Every number taken, and by what.
CREATE TABLE numbers (
    number text PRIMARY KEY,
    kind   text NOT NULL CHECK (kind IN ('user', 'room'))
);
INSERT INTO numbers (number, kind) SELECT extension, 'user' FROM users;

-- The number of a user or a room never changes (the stores update by number and never set it):
-- a change would leave numbers behind, so it is refused rather than followed.
-- +goose StatementBegin
CREATE FUNCTION users_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO numbers (number, kind) VALUES (NEW.extension, 'user');
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM numbers WHERE number = OLD.extension AND kind = 'user';
    ELSIF NEW.extension <> OLD.extension THEN
        RAISE EXCEPTION 'the extension of a user cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'numbers_fixed';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION rooms_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO numbers (number, kind) VALUES (NEW.number, 'room');
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM numbers WHERE number = OLD.number AND kind = 'room';
    ELSIF NEW.number <> OLD.number THEN
        RAISE EXCEPTION 'the number of a room cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'numbers_fixed';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_number AFTER INSERT OR DELETE OR UPDATE OF extension ON users
    FOR EACH ROW EXECUTE FUNCTION users_number();
CREATE TRIGGER rooms_number AFTER INSERT OR DELETE OR UPDATE OF number ON rooms
    FOR EACH ROW EXECUTE FUNCTION rooms_number();

-- +goose Down
DROP TRIGGER rooms_number ON rooms;
DROP TRIGGER users_number ON users;
DROP FUNCTION rooms_number();
DROP FUNCTION users_number();
DROP TABLE numbers;
DROP TABLE rooms;
