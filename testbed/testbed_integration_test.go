//go:build integration

package testbed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard/testbed"
)

// The smoke tests prove the bed itself: if they fail, nothing else in the run can be trusted.

func TestAsteriskLoadsRepoConfig(t *testing.T) {
	// A private instance, so that its log holds only its own start-up.
	ast := testbed.StartAsterisk(t)

	t.Run("Modules", func(t *testing.T) {
		for _, mod := range []string{"res_pjsip.so", "res_ari.so", "app_voicemail.so", "app_stasis.so", "res_agi.so", "chan_pjsip.so", "pbx_config.so"} {
			out := ast.MustCLI(t, "module show like "+mod)
			if !strings.Contains(out, mod) || !strings.Contains(out, "Running") {
				t.Errorf("module %s not running:\n%s", mod, out)
			}
		}
	})
	t.Run("NoErrorsInLog", func(t *testing.T) {
		if problems := ast.LogProblems(t); len(problems) > 0 {
			t.Errorf("Asterisk logged %d errors/warnings at start:\n%s", len(problems), strings.Join(problems, "\n"))
		}
	})
	t.Run("Transports", func(t *testing.T) {
		out := ast.MustCLI(t, "pjsip show transports")
		want := fmt.Sprintf("127.0.0.1:%d", ast.SIPPort)
		for _, tr := range []string{"transport-udp", "transport-tcp"} {
			if !strings.Contains(out, tr) || !strings.Contains(out, want) {
				t.Errorf("transport %s on %s missing:\n%s", tr, want, out)
			}
		}
	})
	t.Run("ARIWithRepoCredentials", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ast.ARIURL+"/ari/asterisk/info", nil)
		req.SetBasicAuth(testbed.RepoARIUsername, testbed.RepoARIPassword)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /ari/asterisk/info with asterisk/ari.conf's user: status %d", resp.StatusCode)
		}
	})
	t.Run("DialplanSkeleton", func(t *testing.T) {
		out := ast.MustCLI(t, "dialplan show switchboard-phones")
		if !strings.Contains(out, "switchboard-features") || !strings.Contains(out, "switchboard-extensions") {
			t.Errorf("dialplan skeleton missing:\n%s", out)
		}
	})
}

// The shared instance runs with a per-run ARI password set through asterisk/install-config.
func TestARIAnswersWithConfiguredCredentials(t *testing.T) {
	ast := testbed.SharedAsterisk(t)
	get := func(user, pass string) *http.Response {
		req, _ := http.NewRequest("GET", ast.ARIURL+"/ari/asterisk/info", nil)
		req.SetBasicAuth(user, pass)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	t.Run("OK", func(t *testing.T) {
		resp := get(ast.ARIUsername, ast.ARIPassword)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var info struct {
			System struct {
				Version string `json:"version"`
			} `json:"system"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(info.System.Version, "22.") {
			t.Errorf("Asterisk version %q, want 22.x", info.System.Version)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		if resp := get(ast.ARIUsername, "wrong-password"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d with a wrong password, want 401", resp.StatusCode)
		}
	})
}

func TestPostgresAcceptsConnections(t *testing.T) {
	dsn := testbed.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
		t.Fatalf("SELECT 40 + 2 = %d, %v", n, err)
	}
}

func TestSIPpDigestRegister(t *testing.T) {
	ast := testbed.StartAsterisk(t)
	// An endpoint declared by the test itself, built on the repository's templates.
	ast.WriteConfig(t, "pjsip.conf", `
[7001](switchboard-endpoint)
auth = 7001
aors = 7001
[7001](switchboard-auth)
username = 7001
password = correct-horse
[7001](switchboard-aor)
`, "res_pjsip.so")
	server := net.JoinHostPort("127.0.0.1", strconv.Itoa(ast.SIPPort))
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(strings.ToUpper(transport), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if res := testbed.Register(t, ctx, server, transport, "7001", "correct-horse", 60); res.ExitCode != 0 {
				t.Fatalf("REGISTER failed (exit %d):\n%s\n%s", res.ExitCode, res.Output, res.ErrorLog)
			}
			if res := testbed.Register(t, ctx, server, transport, "7001", "wrong-horse", 60); res.ExitCode == 0 {
				t.Errorf("REGISTER with a wrong password succeeded:\n%s", res.Output)
			}
		})
	}
}
