package testbed

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresDSN returns the admin DSN of the shared PostgreSQL cluster.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	return Getenv(tb, EnvDSN)
}

// NewDatabase creates an empty database in the shared cluster, drops it when the test ends and
// returns its DSN. Each test gets its own database, so tests never see each other's rows.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, PostgresDSN(tb))
}

func newDatabase(tb testing.TB, adminDSN string) string {
	tb.Helper()
	name := strings.ReplaceAll(RunName("db"), "-", "_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		tb.Fatalf("testbed: connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("testbed: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			return // the cluster is gone; scripts/test removes it
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return withDatabase(tb, adminDSN, name)
}

func withDatabase(tb testing.TB, dsn, name string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("testbed: bad DSN: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// PostgresServer is a private PostgreSQL cluster that a test may stop and start again, e.g. to
// prove that the API answers 503 while the database is down and loses nothing.
type PostgresServer struct {
	Dir      string
	Port     int
	AdminDSN string
	script   string
}

// StartPostgres starts a private cluster on a free port; it is destroyed when the test ends.
func StartPostgres(tb testing.TB) *PostgresServer {
	tb.Helper()
	Getenv(tb, EnvDSN) // a bed without PostgreSQL has no server binaries either
	s := &PostgresServer{
		Dir:    filepath.Join(StateDir(tb), "pg"),
		Port:   FreePort(tb),
		script: filepath.Join(Repo(tb), "scripts", "postgres-instance"),
	}
	s.AdminDSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	s.run(tb, "create", s.Dir, fmt.Sprint(s.Port))
	tb.Cleanup(func() { exec.Command(s.script, "destroy", s.Dir).Run() })
	s.Start(tb)
	return s
}

// NewDatabase creates a database in this private cluster and returns its DSN.
func (s *PostgresServer) NewDatabase(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, s.AdminDSN)
}

// Start starts the cluster and waits until it accepts connections.
func (s *PostgresServer) Start(tb testing.TB) { tb.Helper(); s.run(tb, "start", s.Dir) }

// Stop shuts the cluster down (fast mode: open connections are cut).
func (s *PostgresServer) Stop(tb testing.TB) { tb.Helper(); s.run(tb, "stop", s.Dir) }

func (s *PostgresServer) run(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command(s.script, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("testbed: postgres-instance %s: %v\n%s", args[0], err, out)
	}
}
