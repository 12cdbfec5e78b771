//go:build integration

package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mrand "math/rand/v2"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// Compose projects of this test are named composeProjectPrefix-<pid>-<random>: never the
// developer's "switchboard", and the pid lets a later run remove what a run killed before its
// cleanup (a go test timeout, SIGKILL) left behind.
const composeProjectPrefix = "sbtest"

// composeImageTag is SWITCHBOARD_VERSION for the test's builds, so that the developer's
// switchboard/*:dev images are never replaced by a test run.
const composeImageTag = "e2e"

// The label Compose (v1 and v2) puts on the containers, networks and volumes of a project.
const composeProjectLabel = "com.docker.compose.project"

// TestComposeStack is the promise of the README's first line, on a real Docker engine: the
// stack is built and started with Compose, phones on the host register and call through the
// published ports (answered with audio both ways, and into voicemail), the data survives
// `down` + `up`, and `down -v` leaves nothing behind.
func TestComposeStack(t *testing.T) {
	began := time.Now()
	c := newComposeStack(t)
	c.seedImages(t)
	c.build(t)

	cold := c.up(t)
	t.Logf("cold start (new volumes): healthy %v after `up -d`", cold.Round(100*time.Millisecond))

	const alicePW, bobPW = "alice-compose-pw-1", "bob-compose-pw-22"
	// One phone each: every phone this test starts takes the place of the last registration
	// (SIPp's, which does not stay to answer qualify requests).
	enabled, pin, onePhone := true, "4321", api.CallSettingsChange{MaxDevices: ptr(1)}
	for _, u := range []api.CreateUserRequest{
		{Extension: "1001", Name: "Alice Smith", Password: alicePW, CallSettingsChange: onePhone},
		{Extension: "1002", Name: "Bob Jones", Password: bobPW, Voicemail: &api.VoicemailChange{Enabled: &enabled, PIN: &pin},
			CallSettingsChange: onePhone},
	} {
		if _, err := c.api.CreateUser(ctxT(t, 30*time.Second), u); err != nil {
			t.Fatalf("create %s through %s: %v", u.Extension, c.apiURL, err)
		}
	}
	c.registerOK(t, "1001", alicePW)
	c.registerOK(t, "1002", bobPW)

	t.Run("AnsweredCall", func(t *testing.T) {
		// Bob's phone takes the place of his SIPp registration (one contact per user).
		bob := c.startAnswering(t, "1002", bobPW, softphone.AnswerOptions{
			Calls: 1, MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
		r := c.call(t, "1001", alicePW, "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 4 * time.Second}})
		if !r.Answered() {
			t.Fatalf("call 1001 → 1002 not answered: %s", r.Error)
		}
		callee := bob.wait(t)
		if r.Tone == nil || !r.Tone.Detected {
			t.Errorf("caller did not hear the callee's 2000 Hz through the published ports: %+v (RTP %+v)", r.Tone, r.RTP)
		}
		if callee.Tone == nil || !callee.Tone.Detected {
			t.Errorf("callee did not hear the caller's 1000 Hz through the published ports: %+v (RTP %+v)", callee.Tone, callee.RTP)
		}
		t.Logf("answered call: setup %v; caller got %d RTP packets (loss %.1f%%), callee %d (loss %.1f%%)",
			r.Setup, r.RTP.Received, r.RTP.LossPercent, callee.RTP.Received, callee.RTP.LossPercent)
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("SecretsPrivate", func(t *testing.T) {
		// The generated configuration (digests), the realtime database (PINs) and ARI's and
		// AMI's password are nobody else's in the containers either.
		out := c.compose(t, 30*time.Second, "exec", "-T", "asterisk", "sh", "-c",
			"stat -c '%a %U:%G %n' /etc/asterisk/ari.conf /etc/asterisk/manager.conf /etc/asterisk/switchboard /etc/asterisk/switchboard/*")
		var listed int
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			mode, _, _ := strings.Cut(l, " ")
			if mode == "" || strings.Trim(mode, "01234567") != "" {
				continue // not stat's (compose's own warnings)
			}
			listed++
			if !strings.HasSuffix(mode, "0") {
				t.Errorf("readable by others: %s", l)
			}
		}
		if listed < 5 {
			t.Fatalf("stat listed %d files, want ari.conf, manager.conf, the directory and its files:\n%s", listed, out)
		}
		t.Logf("in the Asterisk container:\n%s", out)
	})
	c.waitPresence(t, "1002", "offline")

	t.Run("Voicemail", func(t *testing.T) {
		// Bob records his greeting over the API (3 s of 600 Hz): the control plane writes it into
		// the shared voicemail volume, creating Bob's mailbox directory, in which Asterisk, another
		// user in another container, must then leave the message.
		var greeting bytes.Buffer
		media.WriteWAV(&greeting, media.Tone(600, -12, 8000, 3*8000), 8000)
		if _, err := c.api.SetGreeting(ctxT(t, 30*time.Second), "1002", "unavailable", greeting.Bytes()); err != nil {
			t.Fatalf("upload Bob's greeting: %v", err)
		}
		// Bob is offline: the caller hears that greeting, then the beep, and leaves a message
		// made of a 1000 Hz tone.
		r := c.call(t, "1001", alicePW, "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 600, Duration: 12 * time.Second}})
		if !r.Answered() {
			t.Fatalf("voicemail did not answer: %s", r.Error)
		}
		if r.Tone == nil || !r.Tone.Detected {
			t.Errorf("the caller did not hear Bob's uploaded greeting (tone %+v, audio %+v, RTP %+v)", r.Tone, r.Audio, r.RTP)
		}
		eventually(t, 30*time.Second, "voicemail message of 1002 with the caller's tone", func() error {
			return c.messageHasTone(t, "1002", 1000)
		})
	})

	records := c.waitRecords(t)
	if t.Failed() {
		t.FailNow()
	}

	// `down` keeps the named volumes: users, call records and the message are still there after
	// the next `up`, and the generated configuration lets Bob register again.
	c.compose(t, 3*time.Minute, "down")
	if left := c.leftovers(t); !slices.Equal(left, c.volumes(t)) || len(left) != 3 {
		t.Fatalf("after `down`: want exactly the three named volumes left, got %v", left)
	}
	warm := c.up(t)
	t.Logf("warm start (existing volumes): healthy %v after `up -d`", warm.Round(100*time.Millisecond))
	t.Run("Persistence", func(t *testing.T) {
		list, err := c.api.Users(ctxT(t, 30*time.Second), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range list.Users {
			names = append(names, u.Extension+" "+u.Name)
		}
		if want := []string{"1001 Alice Smith", "1002 Bob Jones"}; !slices.Equal(names, want) {
			t.Errorf("users after down + up: %q, want %q", names, want)
		}
		l, err := c.api.Calls(ctxT(t, 30*time.Second), api.CallQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Calls) != len(records) {
			t.Errorf("call records after down + up: %+v, want %+v", l.Calls, records)
		}
		for i := range min(len(l.Calls), len(records)) {
			if got, want := l.Calls[i], records[i]; got.ID != want.ID || got.Outcome != want.Outcome {
				t.Errorf("call record %d after down + up: %+v, want %+v", i, got, want)
			}
		}
		if err := c.messageHasTone(t, "1002", 1000); err != nil {
			t.Errorf("voicemail after down + up: %v", err)
		}
		c.registerOK(t, "1002", bobPW)
	})
	if t.Failed() {
		t.FailNow()
	}
	// Restarting or upgrading the control plane in the middle of a call.
	c.restartsMidCall(t, alicePW, bobPW)

	c.down(t)
	c.logImageSizes(t)
	t.Logf("compose test: %v in all", time.Since(began).Round(time.Second))
}

// composeStack is one Compose project of docker-compose.yml, built from this checkout, with its
// own name, secrets and host ports.
type composeStack struct {
	project  string
	repo     string
	command  []string // "docker compose" (v2) or "docker-compose" (v1)
	v1       bool
	env      []string // the environment of every compose command
	envFile  string
	logDir   string
	sipPort  int
	apiPort  int
	rtpStart int
	rtpEnd   int
	apiURL   string
	api      *api.Client
	removed  bool // down -v done and checked
}

// newComposeStack checks for a Docker engine and Compose, removes what killed runs left, picks
// free host ports and secrets, and registers the teardown (down -v, then a check that nothing
// of the project is left) before anything is created.
func newComposeStack(t *testing.T) *composeStack {
	t.Helper()
	// Docker is a prerequisite like Asterisk: missing in CI is a failure, elsewhere a loud skip.
	_, err := exec.LookPath("docker")
	testbed.Need(t, err == nil, "docker is not installed; the compose end-to-end test needs a Docker engine")
	out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	testbed.Need(t, err == nil, "the Docker engine does not answer (docker info: %v: %s)", err, bytes.TrimSpace(out))
	c := &composeStack{
		project: fmt.Sprintf("%s-%d-%04d", composeProjectPrefix, os.Getpid(), mrand.IntN(10000)),
		repo:    testbed.Repo(t),
		logDir:  t.TempDir(),
	}
	switch {
	case exec.Command("docker", "compose", "version").Run() == nil:
		c.command = []string{"docker", "compose"}
	default:
		_, err := exec.LookPath("docker-compose")
		testbed.Need(t, err == nil, "neither `docker compose` (v2) nor `docker-compose` (v1) is installed")
		c.command, c.v1 = []string{"docker-compose"}, true
	}
	t.Logf("Docker engine %s, %s, project %s", bytes.TrimSpace(out), strings.Join(c.command, " "), c.project)
	lockComposeTests(t)
	sweepStaleComposeProjects(t)

	c.sipPort = testbed.FreePort(t)
	c.rtpStart, c.rtpEnd = freeRTPRange(t, 40)
	c.apiPort = testbed.FreePort(t)
	c.apiURL = fmt.Sprintf("http://127.0.0.1:%d", c.apiPort)
	token := randomHex(t, 32)
	c.api = &api.Client{BaseURL: c.apiURL, Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}

	// What a site writes into .env, with everything published on loopback only. The phones of
	// this test run on this host and reach the stack through docker-proxy, so Asterisk sees
	// them coming from the compose network's gateway, which the default LOCAL_NET leaves out.
	// EXTERNAL_ADDRESS is 127.0.0.1, the address they reach the host at, as it is the host's
	// LAN address for LAN phones: every SIP header and SDP body they get carries the published
	// address and ports, so signalling and audio take the path a phone on the LAN takes.
	settings := [][2]string{
		{"SWITCHBOARD_ADMIN_TOKEN", token},
		{"POSTGRES_PASSWORD", randomHex(t, 24)},
		{"ARI_PASSWORD", randomHex(t, 24)},
		{"POSTGRES_USER", "switchboard"},
		{"POSTGRES_DB", "switchboard"},
		{"ARI_USERNAME", "switchboard"},
		{"SWITCHBOARD_VERSION", composeImageTag},
		{"SWITCHBOARD_API_PUBLISH", fmt.Sprintf("127.0.0.1:%d", c.apiPort)},
		{"SIP_PUBLISH_ADDRESS", "127.0.0.1"},
		{"SIP_PORT", strconv.Itoa(c.sipPort)},
		{"RTP_START", strconv.Itoa(c.rtpStart)},
		{"RTP_END", strconv.Itoa(c.rtpEnd)},
		{"EXTERNAL_ADDRESS", "127.0.0.1"},
		{"LOCAL_NET", ""},
	}
	if proxy := os.Getenv("GOPROXY"); proxy != "" {
		settings = append(settings, [2]string{"GOPROXY", proxy})
	}
	// The env file replaces the checkout's .env (never read or written here); the same
	// settings in the environment win over whatever the developer's shell exports.
	var file strings.Builder
	for _, kv := range settings {
		fmt.Fprintf(&file, "%s=%s\n", kv[0], kv[1])
	}
	c.envFile = filepath.Join(t.TempDir(), "compose.env")
	if err := os.WriteFile(c.envFile, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{"EXTRA_CA_CERTS": true}
	for _, kv := range settings {
		ours[kv[0]] = true
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !ours[name] && !strings.HasPrefix(name, "COMPOSE_") {
			c.env = append(c.env, kv)
		}
	}
	for _, kv := range settings {
		c.env = append(c.env, kv[0]+"="+kv[1])
	}
	// The CA of an HTTPS-intercepting proxy, for `go mod download` in the Go build stage (PEM
	// text: the environment carries it, an env file could not).
	if ca := extraCACerts(t); ca != "" {
		c.env = append(c.env, "EXTRA_CA_CERTS="+ca)
	}
	t.Cleanup(func() { c.teardown(t) })
	return c
}

// seedImages builds the base images the Dockerfiles and the compose file name when the engine
// lacks any of them (it cannot pull): scripts/offline-images.
func (c *composeStack) seedImages(t *testing.T) {
	t.Helper()
	script := filepath.Join(c.repo, "scripts", "offline-images")
	out, err := exec.Command(script, "--list").Output()
	if err != nil {
		t.Fatalf("offline-images --list: %v", err)
	}
	var missing []string
	for _, tag := range strings.Fields(string(out)) {
		if exec.Command("docker", "image", "inspect", tag).Run() != nil {
			missing = append(missing, tag)
		}
	}
	if len(missing) == 0 {
		return
	}
	_, err = exec.LookPath("debootstrap")
	testbed.Need(t, os.Geteuid() == 0 && err == nil,
		"base images %v are missing and scripts/offline-images needs root and debootstrap to build them", missing)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, script).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/offline-images: %v\n%s", err, tail(string(b), 40))
	}
	t.Logf("base images %v built by scripts/offline-images in %v:\n%s", missing, time.Since(start).Round(time.Second), bytes.TrimSpace(b))
}

// build builds the stack's two images. Docker's build cache makes it quick when nothing
// changed. What a rebuild replaces is removed, so that runs on changed sources do not pile up
// untagged images: the previous images, and the previous Go build stage (the Dockerfile
// labels it) once a new one exists; the module download layer they share stays.
func (c *composeStack) build(t *testing.T) {
	t.Helper()
	images := []string{"switchboard/asterisk:" + composeImageTag, "switchboard/switchboard:" + composeImageTag}
	before := map[string]string{}
	for _, image := range images {
		before[image] = imageID(image)
	}
	stagesBefore := buildStages()
	start := time.Now()
	args := []string{"build"}
	if c.v1 {
		args = append(args, "--parallel")
	}
	c.composeLogged(t, 20*time.Minute, "build", args...)
	t.Logf("images built in %v", time.Since(start).Round(100*time.Millisecond))
	for _, image := range images {
		if old, now := before[image], imageID(image); old != "" && old != now {
			exec.Command("docker", "image", "rm", old).Run() // in use elsewhere: kept, harmless
		}
	}
	if stages := buildStages(); len(stages) > len(stagesBefore) {
		for _, id := range stagesBefore {
			exec.Command("docker", "image", "rm", id).Run()
		}
	}
}

// buildStages lists the untagged images that end the root Dockerfile's Go build stage.
func buildStages() []string {
	out, _ := exec.Command("docker", "images", "--quiet", "--no-trunc", "--filter", "dangling=true",
		"--filter", "label=org.switchboard.stage=build").Output()
	return strings.Fields(string(out))
}

// up starts the stack (`up -d`) and waits until every service is healthy; it returns the time
// that took.
func (c *composeStack) up(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	c.composeLogged(t, 5*time.Minute, "up", "up", "-d", "--no-build")
	c.waitHealthy(t, 3*time.Minute)
	took := time.Since(start)
	resp, err := http.Get(c.apiURL + "/readyz")
	if err != nil {
		t.Fatalf("the admin API on its published port: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/readyz on a healthy stack: %d", c.apiURL, resp.StatusCode)
	}
	return took
}

// waitHealthy waits until the three services' containers run and report healthy. A container
// that exits or restarts fails the test at once, with the logs.
func (c *composeStack) waitHealthy(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var state string
	for {
		ids := strings.Fields(c.compose(t, time.Minute, "ps", "-q"))
		if len(ids) > 0 {
			out, err := exec.Command("docker", append([]string{"inspect", "--format",
				`{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}} {{.RestartCount}}`}, ids...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("docker inspect: %v: %s", err, out)
			}
			state = strings.TrimSpace(string(out))
			healthy := 0
			for _, line := range strings.Split(state, "\n") {
				f := strings.Fields(line)
				if len(f) != 4 {
					continue
				}
				if f[1] == "exited" || f[1] == "dead" || f[2] == "unhealthy" || f[3] != "0" {
					t.Fatalf("service %s is %s/%s after %s restarts:\n%s", f[0], f[1], f[2], f[3], c.logs(t))
				}
				if f[1] == "running" && f[2] == "healthy" {
					healthy++
				}
			}
			if healthy == 3 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stack not healthy within %v:\n%s\n%s", within, state, c.logs(t))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// down runs `down -v` and proves that nothing of the project is left: no container, network
// or volume, and the published ports free again.
func (c *composeStack) down(t *testing.T) {
	t.Helper()
	c.compose(t, 3*time.Minute, "down", "-v", "--remove-orphans")
	if left := c.leftovers(t); len(left) > 0 {
		t.Fatalf("left after `down -v`: %v", left)
	}
	for _, port := range []int{c.sipPort, c.rtpStart, c.rtpEnd} {
		if !udpPortFree(port) {
			t.Errorf("port %d/udp still taken after `down -v`", port)
		}
	}
	for _, port := range []int{c.sipPort, c.apiPort} {
		if l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port)); err != nil {
			t.Errorf("port %d/tcp still taken after `down -v`: %v", port, err)
		} else {
			l.Close()
		}
	}
	c.removed = true
}

// teardown removes the project whatever happened (`down -v`, then by label what Compose could
// not remove), and fails the test if anything had to be removed by force.
func (c *composeStack) teardown(t *testing.T) {
	if c.removed {
		return
	}
	if t.Failed() {
		t.Logf("compose logs (project %s):\n%s", c.project, c.logs(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := c.composeCmd(ctx, "down", "-v", "--remove-orphans", "--timeout", "5")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("teardown: compose down -v: %v\n%s", err, tail(string(out), 20))
	}
	if left := c.leftovers(t); len(left) > 0 {
		t.Errorf("teardown: left after `down -v`, removing by force: %v", left)
		removeComposeProject(c.project)
	}
}

// leftovers lists the project's containers, networks and volumes that still exist, as
// "kind name" strings sorted by kind.
func (c *composeStack) leftovers(t *testing.T) []string {
	t.Helper()
	var left []string
	filter := "label=" + composeProjectLabel + "=" + c.project
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "--filter", filter, "--format", "{{.Name}}"}
		if kind == "container" {
			args = []string{"ps", "-a", "--filter", filter, "--format", "{{.Names}}"}
		}
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, out)
			continue
		}
		names := strings.Fields(string(out))
		slices.Sort(names)
		for _, name := range names {
			left = append(left, kind+" "+name)
		}
	}
	return left
}

// volumes are the names of the project's three named volumes, as leftovers lists them.
func (c *composeStack) volumes(t *testing.T) []string {
	t.Helper()
	var want []string
	for _, v := range []string{"asterisk-config", "pgdata", "voicemail"} {
		want = append(want, "volume "+c.project+"_"+v)
	}
	return want
}

// registerOK registers ext with SIPp from the host through the published SIP port, retrying
// until Asterisk has loaded the user (the configuration is applied asynchronously).
func (c *composeStack) registerOK(t *testing.T, ext, password string) {
	t.Helper()
	eventually(t, 30*time.Second, "SIPp REGISTER "+ext+" through the published port", func() error {
		res := testbed.Register(t, ctxT(t, 30*time.Second), c.sipServer(), "udp", ext, password, 60)
		if res.ExitCode != 0 {
			return fmt.Errorf("SIPp exit %d: %s", res.ExitCode, tail(res.ErrorLog, 5))
		}
		return nil
	})
}

func (c *composeStack) sipServer() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.sipPort))
}

// composeAnswerer is a softphone taking calls in the background.
type composeAnswerer struct {
	ext     string
	invites atomic.Int32 // INVITEs the phone received
	cancel  context.CancelFunc
	done    chan struct{}
	reports []*softphone.Report
	err     error
}

// startAnswering registers ext with a softphone and answers as opts say; it returns once the
// presence API shows the phone online.
func (c *composeStack) startAnswering(t *testing.T, ext, password string, opts softphone.AnswerOptions) *composeAnswerer {
	t.Helper()
	registered := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	a := &composeAnswerer{ext: ext, cancel: cancel, done: make(chan struct{})}
	p := c.openPhone(t, ext, password, func(e softphone.Event) {
		switch e.Kind {
		case softphone.EventRegistered:
			select {
			case registered <- struct{}{}:
			default:
			}
		case softphone.EventIncoming:
			a.invites.Add(1)
		}
	})
	go func() {
		defer close(a.done)
		a.reports, a.err = p.Answer(ctx, opts)
	}()
	t.Cleanup(func() { cancel(); <-a.done })
	// Presence alone could be the SIPp registration this phone replaces.
	select {
	case <-registered:
	case <-a.done:
		t.Fatalf("phone %s stopped before registering: %v", ext, a.err)
	case <-time.After(30 * time.Second):
		t.Fatalf("phone %s did not register within 30s", ext)
	}
	c.waitReachable(t, ext)
	c.waitPresence(t, ext, "online")
	return a
}

// waitReachable waits until Asterisk has qualified ext's one contact: its OPTIONS request
// reached the phone at the address Asterisk learnt (docker-proxy's, rewritten from the
// phone's loopback Contact) and the answer came back.
func (c *composeStack) waitReachable(t *testing.T, ext string) {
	t.Helper()
	eventually(t, 30*time.Second, ext+"'s contact qualified by Asterisk", func() error {
		out, err := c.composeErr(t, time.Minute, "exec", "-T", "asterisk", "asterisk", "-rx", "pjsip show aor "+ext)
		if err != nil {
			return err
		}
		var contacts []string
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[0] == "Contact:" && strings.HasPrefix(f[1], ext+"/sip:") {
				contacts = append(contacts, strings.Join(f[1:], " "))
			}
		}
		if len(contacts) != 1 || !strings.Contains(contacts[0], " Avail ") {
			return fmt.Errorf("contacts %q", contacts)
		}
		return nil
	})
}

// wait returns the report of the one call the answerer took; the phone unregisters.
func (a *composeAnswerer) wait(t *testing.T) *softphone.Report {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(60 * time.Second):
		a.cancel()
		<-a.done
		t.Fatalf("phone %s took no call", a.ext)
	}
	if a.err != nil || len(a.reports) != 1 {
		t.Fatalf("phone %s: %v, reports %+v", a.ext, a.err, a.reports)
	}
	return a.reports[0]
}

func (c *composeStack) openPhone(t *testing.T, ext, password string, onEvent func(softphone.Event)) *softphone.Phone {
	t.Helper()
	p, err := softphone.Open(context.Background(), softphone.Options{Server: c.sipServer(), Username: ext, Password: password, OnEvent: onEvent})
	if err != nil {
		t.Fatalf("open softphone %s: %v", ext, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// call places a call from a new softphone and returns its report.
func (c *composeStack) call(t *testing.T, from, password, to string, opts softphone.CallOptions) *softphone.Report {
	t.Helper()
	p := c.openPhone(t, from, password, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := p.Call(ctx, to, opts)
	if r == nil {
		t.Fatalf("call %s → %s: no report: %v", from, to, err)
	}
	return r
}

func (c *composeStack) waitPresence(t *testing.T, ext, want string) {
	t.Helper()
	eventually(t, 30*time.Second, ext+" "+want, func() error {
		p, err := c.api.Presence(ctxT(t, 10*time.Second), ext)
		if err != nil {
			return err
		}
		if p.State != want {
			return fmt.Errorf("state %s (endpoint %s, device %s)", p.State, p.EndpointState, p.DeviceState)
		}
		return nil
	})
}

// waitRecords waits until both calls have ended records (newest first: the voicemail call,
// then the answered one) and returns them.
func (c *composeStack) waitRecords(t *testing.T) []api.Call {
	t.Helper()
	var calls []api.Call
	eventually(t, 30*time.Second, "two ended call records", func() error {
		l, err := c.api.Calls(ctxT(t, 10*time.Second), api.CallQuery{Limit: 10})
		if err != nil {
			return err
		}
		calls = l.Calls
		if len(calls) != 2 || calls[0].Active || calls[1].Active {
			return fmt.Errorf("records %+v", calls)
		}
		return nil
	})
	vm, answered := calls[0], calls[1]
	if answered.Outcome != "answered" || answered.Caller != "1001" || answered.Callee != "1002" || answered.AnsweredAt == nil {
		t.Errorf("record of the answered call: %+v", answered)
	}
	if vm.Outcome != "voicemail" || vm.Reason != "offline" || vm.Caller != "1001" || vm.Callee != "1002" {
		t.Errorf("record of the voicemail call: %+v, want voicemail/offline", vm)
	}
	return calls
}

// messageHasTone fetches ext's oldest voicemail message over the API (the control plane reads
// the voicemail volume, mounted read-only) and checks that it holds the caller's tone.
func (c *composeStack) messageHasTone(t *testing.T, ext string, hz float64) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := c.api.Messages(ctx, ext, api.MessageQuery{})
	if err != nil {
		return fmt.Errorf("list %s's messages: %w", ext, err)
	}
	if len(l.Messages) == 0 {
		return fmt.Errorf("no message for %s in the API", ext)
	}
	oldest := l.Messages[len(l.Messages)-1]
	wav, err := c.api.MessageAudio(ctx, ext, oldest.ID)
	if err != nil {
		return fmt.Errorf("download message %s: %w", oldest.ID, err)
	}
	samples, format, err := media.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	if r := media.DetectTone(samples, hz, format.SampleRate); !r.Detected {
		return fmt.Errorf("message of %v: no %v Hz tone (%+v)", time.Duration(len(samples))*time.Second/time.Duration(format.SampleRate), hz, r)
	}
	return nil
}

// logImageSizes logs the size of every image the stack runs or is built from.
func (c *composeStack) logImageSizes(t *testing.T) {
	t.Helper()
	var sizes []string
	for _, image := range []string{"switchboard/switchboard:" + composeImageTag, "switchboard/asterisk:" + composeImageTag,
		"postgres:15", "golang:1.26", "debian:sid-slim", "debian:bookworm-slim"} {
		out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Size}}", image).Output()
		if err != nil {
			sizes = append(sizes, image+" ?")
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		sizes = append(sizes, fmt.Sprintf("%s %.1f MB", image, float64(n)/1e6))
	}
	t.Logf("image sizes: %s", strings.Join(sizes, ", "))
}

func (c *composeStack) composeCmd(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append(slices.Clone(c.command[1:]),
		"--project-name", c.project, "--file", filepath.Join(c.repo, "docker-compose.yml"), "--env-file", c.envFile), args...)
	cmd := exec.CommandContext(ctx, c.command[0], full...)
	cmd.Dir = c.repo
	cmd.Env = c.env
	return cmd
}

// composeErr runs a compose command and returns its standard output.
func (c *composeStack) composeErr(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := c.composeCmd(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("compose %s: %w: %s", strings.Join(args, " "), err, tail(stderr.String(), 20))
	}
	return stdout.String(), nil
}

// compose runs a compose command and fails the test when it fails.
func (c *composeStack) compose(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	out, err := c.composeErr(t, timeout, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// composeLogged runs a long compose command (build, up) with its output in a log file, shown
// in part when it fails.
func (c *composeStack) composeLogged(t *testing.T, timeout time.Duration, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	log := filepath.Join(c.logDir, name+".log")
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := c.composeCmd(ctx, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(log)
		t.Fatalf("compose %s: %v\n%s", strings.Join(args, " "), err, tail(string(b), 40))
	}
}

// logs returns the end of every service's log.
func (c *composeStack) logs(t *testing.T) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := c.composeCmd(ctx, "logs", "--no-color", "--tail", "60").CombinedOutput()
	return string(out)
}

// lockComposeTests makes concurrent runs of this test on one machine (two checkouts, two
// developers) take turns until the test ends: they build and run the same image tags, which
// one run must not rebuild or remove under the other. The kernel drops the lock when the
// process dies.
func lockComposeTests(t *testing.T) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "switchboard-compose-test.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("compose test lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Logf("another compose test run holds %s; waiting for it", path)
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("compose test lock: %v", err)
			}
		case <-time.After(20 * time.Minute):
			f.Close()
			t.Fatalf("another compose test run held %s for 20 minutes", path)
		}
		t.Logf("waited %v for the other compose test run", time.Since(start).Round(time.Second))
	}
	t.Cleanup(func() { f.Close() }) // registered before the teardown, so it runs after it
}

// sweepStaleComposeProjects removes the projects of earlier runs of this test whose process is
// gone: a run killed before its cleanup (go test's timeout panics past t.Cleanup) leaves its
// containers running and its ports taken.
func sweepStaleComposeProjects(t *testing.T) {
	t.Helper()
	projects := map[string]bool{}
	for _, args := range [][]string{
		{"ps", "-a", "--format", `{{.Label "` + composeProjectLabel + `"}}`},
		{"network", "ls", "--format", `{{.Label "` + composeProjectLabel + `"}}`},
		{"volume", "ls", "--format", `{{.Label "` + composeProjectLabel + `"}}`},
	} {
		out, _ := exec.Command("docker", args...).Output()
		for _, p := range strings.Fields(string(out)) {
			projects[p] = true
		}
	}
	for p := range projects {
		parts := strings.Split(p, "-")
		if len(parts) != 3 || parts[0] != composeProjectPrefix {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // its test is still running
		}
		t.Logf("removing compose project %s, left by a test run that no longer exists", p)
		removeComposeProject(p)
	}
}

// removeComposeProject removes a project's containers, networks and volumes by label, without
// Compose (which needs the project's settings).
func removeComposeProject(project string) {
	filter := "label=" + composeProjectLabel + "=" + project
	list := func(args ...string) []string {
		out, _ := exec.Command("docker", append(args, "--filter", filter, "-q")...).Output()
		return strings.Fields(string(out))
	}
	if ids := list("ps", "-a"); len(ids) > 0 {
		exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
	}
	if ids := list("network", "ls"); len(ids) > 0 {
		exec.Command("docker", append([]string{"network", "rm"}, ids...)...).Run()
	}
	if ids := list("volume", "ls"); len(ids) > 0 {
		exec.Command("docker", append([]string{"volume", "rm", "-f"}, ids...)...).Run()
	}
}

// freeRTPRange returns n consecutive UDP ports, starting on an even one, free on 127.0.0.1.
// They lie in 11000-19999: below the kernel's ephemeral ports, above the compose default
// (10000-10099, perhaps a developer's stack) and outside the ranges of the native test beds.
func freeRTPRange(t *testing.T, n int) (int, int) {
	t.Helper()
	for range 100 {
		start := 11000 + 2*mrand.IntN((19999-11000-n)/2)
		free := true
		for p := start; p < start+n && free; p++ {
			free = udpPortFree(p)
		}
		if free {
			return start, start + n - 1
		}
	}
	t.Fatal("no free range of RTP ports in 11000-19999")
	return 0, 0
}

func udpPortFree(port int) bool {
	c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// extraCACerts returns the PEM text of the CAs installed in /usr/local/share/ca-certificates
// (an HTTPS-intercepting proxy's, on this project's machines), or EXTRA_CA_CERTS when set.
func extraCACerts(t *testing.T) string {
	t.Helper()
	if ca := os.Getenv("EXTRA_CA_CERTS"); ca != "" {
		return ca
	}
	files, _ := filepath.Glob("/usr/local/share/ca-certificates/*.crt")
	slices.Sort(files)
	var pem strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pem.Write(bytes.TrimSpace(b))
		pem.WriteString("\n")
	}
	return strings.TrimSpace(pem.String())
}

func imageID(image string) string {
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", image).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
