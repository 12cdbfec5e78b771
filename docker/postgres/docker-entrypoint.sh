#!/usr/bin/env bash
# Entrypoint of the postgres:15 stand-in (see Dockerfile). Behaves like the official image's:
# on the first start, with an empty PGDATA, it runs initdb as POSTGRES_USER with
# POSTGRES_PASSWORD, creates POSTGRES_DB, runs /docker-entrypoint-initdb.d/* against a server
# that listens on its socket only, then starts the real server; later starts reuse the data.
set -Eeuo pipefail

# POSTGRES_PASSWORD_FILE etc.: read a variable from a file (Docker secrets).
file_env() { # name [default]
  local var=$1 file_var="${1}_FILE" def=${2:-}
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    echo "error: both $var and $file_var are set (but are exclusive)" >&2
    exit 1
  fi
  local val=$def
  if [[ -n ${!var:-} ]]; then
    val=${!var}
  elif [[ -n ${!file_var:-} ]]; then
    val=$(<"${!file_var}")
  fi
  export "$var"="$val"
  unset "$file_var"
}

if [[ ${1:-} == -* ]]; then
  set -- postgres "$@"
fi

if [[ ${1:-} != postgres ]]; then
  exec "$@"
fi

# As root: make the directories the server needs and drop to user postgres.
if [[ $(id -u) == 0 ]]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA" || :
  mkdir -p /var/run/postgresql
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    chown postgres:postgres "$POSTGRES_INITDB_WALDIR"
    chmod 700 "$POSTGRES_INITDB_WALDIR"
  fi
  # Only the data directory's top level: a large existing cluster is not walked on every start.
  find "$PGDATA" -maxdepth 0 \! -user postgres -exec chown postgres:postgres '{}' +
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$BASH_SOURCE" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

  if [[ -z $POSTGRES_PASSWORD && $auth != trust ]]; then
    cat >&2 <<'EOM'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
EOM
    exit 1
  fi
  if [[ $auth == trust ]]; then
    echo "warning: POSTGRES_HOST_AUTH_METHOD=trust: every host on the network may connect without a password" >&2
  fi

  if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
    POSTGRES_INITDB_ARGS="${POSTGRES_INITDB_ARGS:+$POSTGRES_INITDB_ARGS }--waldir $POSTGRES_INITDB_WALDIR"
  fi
  # The password travels through a pipe, never through the command line or a file on disk.
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of flags, like the official image's
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    $POSTGRES_INITDB_ARGS -D "$PGDATA"
  # Local (socket) connections inside the container stay trusted, as in the official image.
  printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # A server that only listens on its socket: nothing outside sees it until initialisation ends.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  export PGPASSWORD=$POSTGRES_PASSWORD
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [[ $POSTGRES_DB != postgres ]]; then
    exists=$("${psql[@]}" --dbname postgres -tA -v db="$POSTGRES_DB" \
      <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
    if [[ -z $exists ]]; then
      "${psql[@]}" --dbname postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
  fi
  psql+=(--dbname "$POSTGRES_DB")
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e $f ]] || continue
    case $f in
    *.sh)
      if [[ -x $f ]]; then echo "$0: running $f"; "$f"; else echo "$0: sourcing $f"; . "$f"; fi ;;
    *.sql) echo "$0: running $f"; "${psql[@]}" -f "$f" ;;
    *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | "${psql[@]}" ;;
    *.sql.xz) echo "$0: running $f"; xzcat "$f" | "${psql[@]}" ;;
    *) echo "$0: ignoring $f" ;;
    esac
  done
  unset PGPASSWORD
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo
  echo "PostgreSQL init process complete; ready for start up."
  echo
else
  echo
  echo "PostgreSQL Database directory appears to contain a database; Skipping initialization"
  echo
fi

exec "$@"
