//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// composeUpgradeTag is the version of the rebuilt image the upgrade test switches to.
const composeUpgradeTag = composeImageTag + "-upgrade"

// restartsMidCall are the ways people restart the control plane under compose, each run in the
// middle of a call between 1001 and 1002: `docker compose restart switchboard`, and
// `docker compose up -d` with a rebuilt switchboard image (a new version, so a new container).
// The call must not notice.
func (c *composeStack) restartsMidCall(t *testing.T, alicePW, bobPW string) {
	t.Run("RestartMidCall", func(t *testing.T) {
		c.callThrough(t, alicePW, bobPW, func(t *testing.T) {
			c.compose(t, 2*time.Minute, "restart", "switchboard")
		})
	})
	t.Run("UpgradeMidCall", func(t *testing.T) {
		upgrade := []string{"SWITCHBOARD_VERSION=" + composeUpgradeTag}
		t.Cleanup(func() { exec.Command("docker", "image", "rm", "switchboard/switchboard:"+composeUpgradeTag).Run() })
		start := time.Now()
		c.composeEnv(t, 20*time.Minute, upgrade, "build", "switchboard")
		t.Logf("upgraded image built in %v", time.Since(start).Round(time.Second))
		before := c.containerImage(t, "switchboard")
		c.callThrough(t, alicePW, bobPW, func(t *testing.T) {
			c.composeEnv(t, 2*time.Minute, upgrade, "up", "-d", "--no-deps", "switchboard")
		})
		if after := c.containerImage(t, "switchboard"); after == before {
			t.Errorf("switchboard still runs image %s: the upgrade did not replace the container", before)
		}
	})
}

// callThrough places a 12 s call with a tone each way, runs disrupt 4 s into it, and checks
// that the call lasted its length with both tones heard without a break, that the callee's
// phone got one INVITE, and that the stack is healthy again with one answered record of it.
func (c *composeStack) callThrough(t *testing.T, alicePW, bobPW string, disrupt func(t *testing.T)) {
	t.Helper()
	const talk = 12 * time.Second
	bob := c.startAnswering(t, "1002", bobPW, softphone.AnswerOptions{Calls: 1,
		MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
	began := time.Now()
	alice := make(chan *softphone.Report, 1)
	go func() {
		alice <- c.call(t, "1001", alicePW, "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: talk}})
	}()
	eventually(t, 30*time.Second, "the call answered", func() error {
		l, err := c.api.Calls(ctxT(t, 10*time.Second), api.CallQuery{Active: true, Limit: 10})
		if err != nil {
			return err
		}
		for _, call := range l.Calls {
			if call.Outcome == "answered" {
				return nil
			}
		}
		return fmt.Errorf("no answered call yet: %+v", l.Calls)
	})
	<-time.After(time.Until(began.Add(4 * time.Second))) // the scenario: 4 s into the call
	stopped := time.Now()
	disrupt(t)
	t.Logf("disruption done in %v", time.Since(stopped).Round(100*time.Millisecond))
	r := <-alice
	callee := bob.wait(t)
	if !r.Answered() || r.EndedBy != "local" {
		t.Fatalf("caller: answered %v, ended by %q: %s", r.Answered(), r.EndedBy, r.Error)
	}
	for who, rep := range map[string]*softphone.Report{"caller": r, "callee": callee} {
		if rep.Tone == nil || !rep.Tone.Detected || time.Duration(rep.Tone.LongestRun) < talk-1500*time.Millisecond {
			t.Errorf("%s heard the other's tone %+v in a %v call: audio stopped", who, rep.Tone, talk)
		}
	}
	if n := bob.invites.Load(); n != 1 {
		t.Errorf("the callee's phone got %d INVITEs for one call, want 1", n)
	}
	c.waitHealthy(t, 2*time.Minute)
	eventually(t, 30*time.Second, "one answered record of the call", func() error {
		l, err := c.api.Calls(ctxT(t, 10*time.Second), api.CallQuery{From: began.Add(-time.Second), Limit: 10})
		if err != nil {
			return err
		}
		if len(l.Calls) != 1 || l.Calls[0].Outcome != "answered" || l.Calls[0].Active {
			return fmt.Errorf("records %+v", l.Calls)
		}
		return nil
	})
}

// composeEnv runs a compose command with extra environment variables (which win over the
// stack's env file), failing the test when it fails.
func (c *composeStack) composeEnv(t *testing.T, timeout time.Duration, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := c.composeCmd(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compose %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 40))
	}
}

// containerImage returns the image ID a service's container runs.
func (c *composeStack) containerImage(t *testing.T, service string) string {
	t.Helper()
	id := strings.TrimSpace(c.compose(t, time.Minute, "ps", "-q", service))
	out, err := exec.Command("docker", "inspect", "--format", "{{.Image}}", id).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", id, err)
	}
	return strings.TrimSpace(string(out))
}
