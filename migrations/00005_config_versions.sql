-- Configuration versions: every change of a user (created, changed, deleted) gets the next
-- number of one sequence, so that "what changed after version v" is one query. Asterisk keeps
-- the version of the configuration it holds (the global SWITCHBOARD_CONFIG_VERSION): the
-- control plane pushes it exactly the changes it lacks, after its own restart as after
-- Asterisk's, instead of every user.
--
-- Versions are given under one lock held until commit, so they are committed in order: a
-- reader that saw version v committed never finds a smaller one committed later.

-- +goose Up
CREATE SEQUENCE config_version;
ALTER TABLE users ADD COLUMN config_version bigint NOT NULL DEFAULT 0;
CREATE INDEX users_config_version ON users (config_version);

-- A deleted user's extension, until it is created again.
CREATE TABLE deleted_users (
    extension text PRIMARY KEY,
    config_version bigint NOT NULL
);
CREATE INDEX deleted_users_config_version ON deleted_users (config_version);

-- +goose StatementBegin
CREATE FUNCTION users_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- 0x5357 0x4346 is "SWCF": the lock of configuration versions.
    PERFORM pg_advisory_xact_lock(1398227782);
    IF TG_OP = 'DELETE' THEN
        INSERT INTO deleted_users (extension, config_version)
            VALUES (OLD.extension, nextval('config_version'))
            ON CONFLICT (extension) DO UPDATE SET config_version = EXCLUDED.config_version;
        RETURN OLD;
    END IF;
    NEW.config_version := nextval('config_version');
    IF TG_OP = 'INSERT' THEN
        DELETE FROM deleted_users WHERE extension = NEW.extension;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_config_version BEFORE INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_config_version();

-- The users there are get their first versions.
UPDATE users SET config_version = 0;

-- +goose Down
DROP TRIGGER users_config_version ON users;
DROP FUNCTION users_config_version();
DROP TABLE deleted_users;
DROP INDEX users_config_version;
ALTER TABLE users DROP COLUMN config_version;
DROP SEQUENCE config_version;
