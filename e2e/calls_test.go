//go:build integration

package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// An extension nobody has is refused with 404 and rings no phone: not a registered one, not
// through the Stasis app.
func TestUnknownExtensionReachesNobody(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	waitEndpoint(t, s, "1002")
	bob := testbed.StartBaresip(t, testbed.BaresipOptions{Server: s.SIPServer(), Ext: "1002", Password: "bob-password-222", AutoAnswer: true})
	eventually(t, 20*time.Second, "1002 online", func() error {
		p, err := s.API.Presence(ctxT(t, 10*time.Second), "1002")
		if err != nil || p.State != "online" {
			return fmt.Errorf("presence %+v %v", p, err)
		}
		return nil
	})
	for _, dialled := range []string{"4040", "10020", "1002#", "*98"} {
		res := testbed.RunSIPp(t, ctxT(t, 30*time.Second), testbed.SIPp{
			Scenario: "call-rejected.xml", Server: s.SIPServer(), Service: dialled,
			Username: "1001", Password: "alice-password-1", Keys: map[string]string{"caller": "1001"},
			Template: map[string]string{"status": "404"},
		})
		if res.ExitCode != 0 {
			t.Errorf("calling %q: not a 404 (SIPp exit %d):\n%s", dialled, res.ExitCode, tail(res.ErrorLog, 10))
		}
	}
	bob.Stop(t)
	if log := bob.Log(); strings.Contains(log, "Incoming call") || strings.Contains(log, "answering call") {
		t.Errorf("a registered phone got a call:\n%s", log)
	}
	page, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{Limit: 10})
	if err != nil || len(page.Calls) != 0 {
		t.Errorf("calls recorded for unknown extensions: %+v %v", page.Calls, err)
	}
}
