package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard/api"
)

// adminCLI serves the real API handler over the services in s and returns a function that
// runs command (rooms, groups, queues) against it as the CLI would: what it printed on stdout
// and stderr, and its exit code.
func adminCLI(tb testing.TB, s api.Server,
	command func(context.Context, []string, io.Writer, io.Writer) int) func(args ...string) (string, string, int) {
	tb.Helper()
	const token = "cli-test-token-0123456789"
	s.Token = token
	server, err := api.NewServer(s)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(server.Handler())
	tb.Cleanup(srv.Close)
	tb.Setenv("API_URL", srv.URL)
	tb.Setenv("API_TOKEN", token)
	return func(args ...string) (string, string, int) {
		tb.Helper()
		var stdout, stderr strings.Builder
		code := command(context.Background(), args, &stdout, &stderr)
		return stdout.String(), stderr.String(), code
	}
}
