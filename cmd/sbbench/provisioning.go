package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// ProvisioningResult measures how fast users reach Asterisk and what it costs.
type ProvisioningResult struct {
	PostToRegister Percentiles   `json:"post_to_register"`
	PostMethod     string        `json:"post_method"`
	Scale          []ScalePoint  `json:"scale"`
	Reload         []ReloadPoint `json:"render_and_reload"`
	RSS10kMB       float64       `json:"rss_10k_mb"`
	Storm          StormResult   `json:"storm"`
}

// ReloadPoint splits one configuration pass at a population size: rendering (the control
// plane) and each module's reload (Asterisk).
type ReloadPoint struct {
	Users            int     `json:"users"`
	RenderSeconds    float64 `json:"render_seconds"`
	PJSIPSeconds     float64 `json:"res_pjsip_reload_seconds"`
	DialplanSeconds  float64 `json:"pbx_config_reload_seconds"`
	VoicemailSeconds float64 `json:"app_voicemail_reload_seconds"` // -1 (each): still running after reloadCap
}

// ScalePoint is the cost of users at one population size.
type ScalePoint struct {
	Users          int     `json:"users"`
	CreateSeconds  float64 `json:"create_seconds"` // to create the users of this step through the API
	CreateRate     float64 `json:"create_per_second"`
	Reloads        int     `json:"reloads"`       // module reloads while creating them
	Passes         int     `json:"passes"`        // configuration passes while creating them
	ApplySeconds   float64 `json:"apply_seconds"` // one pass (render + write + reload) at this size
	SwitchboardRSS float64 `json:"switchboard_rss_mb"`
	AsteriskRSS    float64 `json:"asterisk_rss_mb"`
}

// StormResult is a registration storm: many endpoints registering at once.
type StormResult struct {
	Endpoints int     `json:"endpoints"`
	Seconds   float64 `json:"seconds"`
	Failures  int     `json:"failures"`
	Method    string  `json:"method"`
}

func (b *bench) provisioning(ctx context.Context) (*ProvisioningResult, error) {
	res := &ProvisioningResult{}
	var err error
	if res.PostToRegister, err = b.postToRegister(ctx, 60); err != nil {
		return nil, err
	}
	res.PostMethod = "60 users created one after another through the API; after each POST a softphone " +
		"retries REGISTER until Asterisk accepts it; time from sending the POST to the 200 OK of the REGISTER"
	// Populations of 1k and 10k users, created through the API with 16 requests at a time.
	have := 0
	for _, target := range []int{1000, 10000} {
		p, err := b.scaleTo(ctx, have, target)
		if err != nil {
			return nil, err
		}
		res.Scale = append(res.Scale, p)
		if target == 10000 {
			res.RSS10kMB = p.SwitchboardRSS
			if res.Storm, err = b.storm(ctx, 100000, 5000); err != nil {
				return nil, err
			}
		}
		have = target
	}
	// One pass at 1k, 10k and 50k users, taken apart: rendering in this process, each module
	// reload timed over ARI, with the control plane stopped so that nothing else reloads.
	if res.Reload, err = b.renderAndReload(ctx, []int{1000, 10000, 50000}); err != nil {
		return nil, err
	}
	// The other phases measure calls, not reloads of 10,000 users: remove them first.
	b.deleteUsers(ctx)
	b.quiet(ctx)
	return res, nil
}

// postToRegister measures, for n new users, the time from POST to the first REGISTER Asterisk
// accepts.
func (b *bench) postToRegister(ctx context.Context, n int) (Percentiles, error) {
	var ms []float64
	for i := range n {
		ext := strconv.Itoa(7000 + i)
		registered := make(chan struct{}, 1)
		p, err := softphone.Open(ctx, softphone.Options{Server: b.sipServer, Username: ext, Password: password(ext),
			OnEvent: func(e softphone.Event) {
				if e.Kind == softphone.EventRegistered {
					select {
					case registered <- struct{}{}:
					default:
					}
				}
			}})
		if err != nil {
			return Percentiles{}, err
		}
		start := time.Now()
		if _, err := b.api.CreateUser(ctx, api.CreateUserRequest{Extension: ext, Name: "Bench " + ext, Password: password(ext)}); err != nil {
			p.Close()
			return Percentiles{}, err
		}
		b.created = append(b.created, ext)
		deadline := time.Now().Add(10 * time.Second)
		var took time.Duration
		for took == 0 {
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- p.Register(rctx, softphone.RegisterOptions{}) }()
			select {
			case <-registered:
				took = time.Since(start)
				cancel()
				<-done
			case <-done:
				cancel() // refused: the configuration is not there yet; try again
			}
			if took == 0 && time.Now().After(deadline) {
				p.Close()
				return Percentiles{}, fmt.Errorf("user %s could not register within 10 s", ext)
			}
		}
		p.Close()
		ms = append(ms, float64(took.Microseconds())/1000)
	}
	r := percentiles(ms)
	slog.Info("POST → REGISTER", "p50_ms", r.P50, "p99_ms", r.P99)
	return r, nil
}

// metric reads one value from /metrics (summing series with labels).
func (b *bench) metric(name string) float64 {
	resp, err := http.Get(b.apiURL + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// quiet waits until the applier has caught up: no pass for a while.
func (b *bench) quiet(ctx context.Context) {
	last, since := b.metric("switchboard_config_applies_total"), time.Now()
	for time.Since(since) < 3*time.Second && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		if now := b.metric("switchboard_config_applies_total"); now != last {
			last, since = now, time.Now()
		}
	}
}

// scaleTo creates users 100000+have .. 100000+target-1 and measures a pass at that size.
func (b *bench) scaleTo(ctx context.Context, have, target int) (ScalePoint, error) {
	b.quiet(ctx)
	reloads0, passes0 := b.metric("switchboard_asterisk_reloads_total"), b.metric("switchboard_config_applies_total")
	took, err := b.createUsers(ctx, 100000+have, target-have, 16)
	if err != nil {
		return ScalePoint{}, err
	}
	b.quiet(ctx)
	p := ScalePoint{Users: target, CreateSeconds: took.Seconds(), CreateRate: float64(target-have) / took.Seconds(),
		Reloads: int(b.metric("switchboard_asterisk_reloads_total") - reloads0),
		Passes:  int(b.metric("switchboard_config_applies_total") - passes0)}
	// One change at this size: the pass renders every user, writes the files that changed and
	// reloads the modules that read them.
	passes := b.metric("switchboard_config_applies_total")
	name := fmt.Sprintf("Bench renamed %d", target)
	if _, err := b.api.PatchUser(ctx, strconv.Itoa(100000), api.PatchUserRequest{Name: &name}); err != nil {
		return p, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for b.metric("switchboard_config_applies_total") == passes {
		if time.Now().After(deadline) {
			return p, fmt.Errorf("no configuration pass after a change at %d users", target)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.ApplySeconds = b.metric("switchboard_config_apply_last_seconds")
	p.SwitchboardRSS, p.AsteriskRSS = switchboardProc().rssMB(), asteriskProc().rssMB()
	slog.Info("scale", "users", target, "create_s", p.CreateSeconds, "reloads", p.Reloads, "apply_s", p.ApplySeconds, "rss_mb", p.SwitchboardRSS)
	return p, nil
}

// storm registers count users starting at first, 200 at a time, from one SIP stack that also
// answers Asterisk's qualify requests, and returns how long until all were registered.
func (b *bench) storm(ctx context.Context, first, count int) (StormResult, error) {
	res := StormResult{Endpoints: count, Method: "sipgo user agent (the softphone's SIP stack), one UDP socket, " +
		"200 REGISTER transactions in flight, digest authentication"}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sbbench"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		return res, err
	}
	defer ua.Close()
	srv, _ := sipgo.NewServer(ua)
	ok := func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	srv.OnOptions(ok)
	srv.OnNotify(ok)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	port := freeUDPPort()
	go srv.ListenAndServe(sctx, "udp", fmt.Sprintf("127.0.0.1:%d", port))
	time.Sleep(200 * time.Millisecond) // sipgo has no "listening" signal for UDP
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	if err != nil {
		return res, err
	}
	var failures atomic.Int64
	sem := make(chan struct{}, 200)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range count {
		ext := strconv.Itoa(first + i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := register(sctx, client, b.sipServer, ext, port); err != nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Failures = int(failures.Load())
	slog.Info("registration storm", "endpoints", count, "seconds", res.Seconds, "failures", res.Failures)
	return res, nil
}

func register(ctx context.Context, client *sipgo.Client, server, ext string, port int) error {
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+ext+"@"+server, &recipient); err != nil {
		return err
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:%s@127.0.0.1:%d>", ext, port)))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	from := &sip.FromHeader{Address: sip.Uri{User: ext, Host: strings.Split(server, ":")[0]}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: ext, Host: strings.Split(server, ":")[0]}})
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := client.Do(rctx, req)
	if err != nil {
		return err
	}
	if resp.StatusCode == 401 || resp.StatusCode == 407 {
		resp, err = client.DoDigestAuth(rctx, req, resp, sipgo.DigestAuth{Username: ext, Password: password(ext)})
		if err != nil {
			return err
		}
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("REGISTER %s: %d", ext, resp.StatusCode)
	}
	return nil
}

func (r *ProvisioningResult) markdown() string {
	var b strings.Builder
	b.WriteString("## Provisioning\n\n")
	fmt.Fprintf(&b, "POST user → first successful REGISTER (%s): p50 %s, p95 %s, p99 %s, max %s (n=%d; target p99 ≤ 200 ms: %s).\n\n",
		r.PostMethod, ms(r.PostToRegister.P50), ms(r.PostToRegister.P95), ms(r.PostToRegister.P99), ms(r.PostToRegister.Max),
		r.PostToRegister.N, check(r.PostToRegister.P99 <= 200))
	b.WriteString("Users created through the API (16 requests at a time), then one change at that size: the configuration " +
		"pass renders every user, writes the files that changed and reloads the modules that read them.\n\n")
	b.WriteString("| users | create (s) | creates/s | passes | module reloads | one pass: render + reload (s) | switchboard RSS (MiB) | Asterisk RSS (MiB) |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Scale {
		fmt.Fprintf(&b, "| %d | %.1f | %.0f | %d | %d | %.3f | %.1f | %.1f |\n", p.Users, p.CreateSeconds, p.CreateRate, p.Passes, p.Reloads, p.ApplySeconds, p.SwitchboardRSS, p.AsteriskRSS)
	}
	b.WriteString("\nOne configuration pass taken apart: rendering (the control plane, in process) and each module's " +
		"reload over ARI (Asterisk), with the control plane stopped.\n\n| users | render + write (s) | res_pjsip.so (s) | pbx_config.so (s) | app_voicemail.so (s) | total (s) |\n|---|---|---|---|---|---|\n")
	for _, p := range r.Reload {
		total, over := p.RenderSeconds, ""
		cell := func(module string, secs float64) string {
			if secs < 0 {
				total += reloadCap(module).Seconds()
				over = "> "
				return fmt.Sprintf("> %.0f", reloadCap(module).Seconds())
			}
			total += secs
			return fmt.Sprintf("%.2f", secs)
		}
		pj, dp, vm := cell(provisioning.ModulePJSIP, p.PJSIPSeconds), cell(provisioning.ModuleDialplan, p.DialplanSeconds), cell(provisioning.ModuleVoice, p.VoicemailSeconds)
		tot := fmt.Sprintf("%s%.2f", over, total)
		fmt.Fprintf(&b, "| %d | %.3f | %s | %s | %s | %s |\n", p.Users, p.RenderSeconds, pj, dp, vm, tot)
	}
	for _, p := range r.Scale {
		if p.Users == 10000 {
			fmt.Fprintf(&b, "\nAt 10,000 users: one pass %.3f s (target ≤ 1 s: %s); switchboard serve RSS %.1f MiB (target ≤ 64 MB: %s).\n",
				p.ApplySeconds, check(p.ApplySeconds <= 1), p.SwitchboardRSS, check(p.SwitchboardRSS*1.048576 <= 64))
		}
	}
	fmt.Fprintf(&b, "\nRegistration storm: %d endpoints registered in %.1f s, %d failures (%s).\n\n",
		r.Storm.Endpoints, r.Storm.Seconds, r.Storm.Failures, r.Storm.Method)
	return b.String()
}
