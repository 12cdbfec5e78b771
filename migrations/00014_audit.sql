-- The audit trail (issue 17): every change asked of the API (the CLI goes through it), refused
-- ones too. Who asked (actor: "admin-token" for the bearer token, '' when refused before
-- anyone was named), when, the method and the URL path (never the query string), the status
-- answered, the request body with every secret redacted (or only its content type and size when
-- it is not a JSON object; NULL for none), and the request ID that the logs carry too.
--
-- Entries are listed newest first by id (the primary key's index, walked backwards), with an id
-- as the cursor: ids are assigned in the order entries are recorded, while two entries may
-- share a time. A listing of one path prefix (/api/v1/users/1001) reads a range of the index on
-- path: path is compared byte by byte (COLLATE "C"), so that the strings starting with a prefix
-- are exactly those from the prefix up to its successor, whatever the database's locale.
--
-- The checks repeat what the API records, so that nothing else passes for an entry.

-- +goose Up
CREATE TABLE audit_log (
    id         bigserial   PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text        NOT NULL DEFAULT '' CHECK (char_length(actor) <= 200),
    method     text        NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
    path       text        COLLATE "C" NOT NULL CHECK (char_length(path) BETWEEN 1 AND 2048),
    status     integer     NOT NULL CHECK (status BETWEEN 100 AND 599),
    change     jsonb       CHECK (jsonb_typeof(change) = 'object'),
    request_id text        NOT NULL DEFAULT '' CHECK (char_length(request_id) <= 200)
);

CREATE INDEX audit_log_path ON audit_log (path, id);

-- +goose Down
DROP TABLE audit_log;
