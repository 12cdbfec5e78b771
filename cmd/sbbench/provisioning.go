package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// ProvisioningResult measures what one user's change costs at large populations: how fast it
// reaches Asterisk, what Asterisk does about it, and whether calls notice.
type ProvisioningResult struct {
	Method string            `json:"method"`
	Points []PopulationPoint `json:"populations"`
	// Restart is Asterisk's restart with the largest population.
	Restart RestartResult `json:"restart"`
}

// PopulationPoint is everything measured at one population size.
type PopulationPoint struct {
	Users         int     `json:"users"`
	CreateSeconds float64 `json:"create_seconds"` // to grow to this size through the API
	CreateRate    float64 `json:"create_per_second"`
	// Tasks left in Asterisk's sorcery observer queues once the control plane had pushed the
	// grow (sorcery/aor, sorcery/endpoint), and how long they took to drain: each AOR new to
	// Asterisk costs a scan of every endpoint in res_pjsip's pjsip_options (bulks go through
	// the files and one reload instead, see provisioning.Syncer.BulkUsers).
	ObserverBacklog int     `json:"observer_backlog_after_grow"`
	DrainSeconds    float64 `json:"observer_drain_seconds"`
	BulkReloads     int     `json:"bulk_reloads_during_grow"`
	// How long Asterisk's observer queues took to drain after the samples' creations, before
	// the idle setups.
	SamplesDrainSeconds float64 `json:"observer_drain_after_samples_seconds"`
	// How long the setup callees (registered before the grow) were not all online for call
	// control after it: a reload of res_pjsip can leave a registered phone offline until its
	// next qualify.
	CalleesOfflineSeconds float64 `json:"callees_offline_after_grow_seconds"`

	Registrable Percentiles `json:"created_to_registrable"` // POST → REGISTER accepted
	Dialable    Percentiles `json:"created_to_dialable"`    // POST → a call reaches the phone
	Changed     Percentiles `json:"changed_to_refused"`     // password PATCH → old password refused
	Deleted     Percentiles `json:"deleted_to_refused"`     // DELETE → old password refused
	Wrong       int         `json:"wrong_answers"`          // new password refused, old one accepted before the change…

	// What Asterisk and the control plane did while the samples above ran.
	ModuleReloads int `json:"module_reloads"` // "Reloading module" lines in Asterisk's log
	FullPushes    int `json:"full_pushes"`
	FileWrites    int `json:"file_writes"`

	SetupIdle   Percentiles `json:"setup_idle"`  // INVITE→200 through call control, nothing changing
	SetupChurn  Percentiles `json:"setup_churn"` // the same while users change
	ChurnUsers  int         `json:"churn_users"`
	ChurnRate   float64     `json:"churn_changes_per_second"`
	ChurnErrors int         `json:"churn_errors"`
	// CPU (percent of one core) of Asterisk and switchboard serve while the setups ran.
	IdleCPU  ProcessCPU `json:"idle_cpu"`
	ChurnCPU ProcessCPU `json:"churn_cpu"`

	SwitchboardRSS float64 `json:"switchboard_rss_mib"`
	AsteriskRSS    float64 `json:"asterisk_rss_mib"`
}

// ProcessCPU is the CPU Asterisk and the control plane used over a measurement, in percent of
// one core.
type ProcessCPU struct {
	Asterisk    float64 `json:"asterisk"`
	Switchboard float64 `json:"switchboard"`
}

func meterStack() func() ProcessCPU {
	ast, sb := meter(asteriskProc()), meter(switchboardProc())
	return func() ProcessCPU { return ProcessCPU{Asterisk: ast.percent(), Switchboard: sb.percent()} }
}

// RestartResult is Asterisk restarted with every user in place.
type RestartResult struct {
	Users        int     `json:"users"`
	BootSeconds  float64 `json:"boot_seconds"`  // start → fully booted (core waitfullybooted)
	ReadySeconds float64 `json:"ready_seconds"` // start → a sample of users registers again
	Sampled      int     `json:"sampled"`
	Failures     int     `json:"failures"` // sampled users that could not register within a minute
	FullPushes   int     `json:"full_pushes"`
}

// provisioningOptions size the phase.
type provisioningOptions struct {
	Populations []int
	Samples     int // users created, changed and deleted per population
	SetupCalls  int // calls per setup measurement (idle, churn)
	ChurnUsers  int
}

const populationBase = 100000 // extensions 100000… are the population; 160000… the samples

func (b *bench) provisioning(ctx context.Context, o provisioningOptions) (*ProvisioningResult, error) {
	res := &ProvisioningResult{Method: fmt.Sprintf("Users created through the API, 16 requests at a time, up to each population. "+
		"At each size %d users are created, changed and deleted one at a time: created → registrable is the POST until a "+
		"softphone's REGISTER is accepted, created → dialable the POST until a call from another softphone rings it; "+
		"changed → refused is a password PATCH until a REGISTER with the old password is refused (and one with the new "+
		"password accepted), deleted → refused a DELETE until the old password is refused. REGISTERs are probed every 5 ms. "+
		"Module reloads are counted in Asterisk's own log (every \"Reloading module\" line) over all of it. Call setup is "+
		"SIPp's INVITE→200 through call control, %d calls one at a time, first with nothing changing, then while %d users "+
		"have their password changed round-robin, 100 PATCHes per second.", o.Samples, o.SetupCalls, o.ChurnUsers)}
	actx, stopAnswerers := context.WithCancel(ctx)
	defer stopAnswerers()
	if _, err := b.createUsers(ctx, 5000, 1, 1); err != nil {
		return nil, err
	}
	callees, err := b.readyCallees(actx, 5001, setupCallees, 0)
	if err != nil {
		return nil, err
	}
	probe, err := newProbe(ctx, b.sipServer)
	if err != nil {
		return nil, err
	}
	defer probe.close()
	caller, err := softphone.Open(ctx, softphone.Options{Server: b.sipServer, Username: callerExt, Password: password(callerExt)})
	if err != nil {
		return nil, err
	}
	defer caller.Close()

	have := 0
	for i, target := range o.Populations {
		bulk0 := b.metric("switchboard_config_bulk_reloads_total")
		took, err := b.createUsers(ctx, populationBase+have, target-have, 16)
		if err != nil {
			return nil, err
		}
		b.quiet(ctx)
		p := PopulationPoint{Users: target, CreateSeconds: took.Seconds(), CreateRate: float64(target-have) / took.Seconds()}
		have = target
		p.BulkReloads = int(b.metric("switchboard_config_bulk_reloads_total") - bulk0)
		p.ObserverBacklog = b.observerBacklog()
		p.DrainSeconds = b.drainObservers().Seconds()
		offline, err := b.waitOnline(ctx, callees, 2*time.Minute)
		if err != nil {
			return nil, fmt.Errorf("after growing to %d users: %w", target, err)
		}
		p.CalleesOfflineSeconds = offline.Seconds()
		if err := b.measurePopulation(ctx, &p, o, i, probe, caller, callees); err != nil {
			return nil, err
		}
		res.Points = append(res.Points, p)
		slog.Info("population", "users", target, "registrable_p99", p.Registrable.P99, "dialable_p99", p.Dialable.P99,
			"changed_p99", p.Changed.P99, "deleted_p99", p.Deleted.P99, "reloads", p.ModuleReloads,
			"setup_idle_p50", p.SetupIdle.P50, "setup_churn_p50", p.SetupChurn.P50, "rss_mib", p.SwitchboardRSS)
	}
	stopAnswerers()
	if res.Restart, err = b.restartAsterisk(ctx, have, probe); err != nil {
		return nil, err
	}
	// The other phases measure calls among a few users: remove the population first.
	b.deleteUsers(ctx)
	b.quiet(ctx)
	return res, nil
}

func (b *bench) measurePopulation(ctx context.Context, p *PopulationPoint, o provisioningOptions, round int,
	probe *probe, caller *softphone.Phone, callees []string) error {
	reloads, err := b.countReloads()
	if err != nil {
		return err
	}
	defer reloads.stop()
	full0, files0 := b.metric("switchboard_config_full_pushes_total"), b.metric("switchboard_config_file_writes_total")

	var reg, dial, changed, deleted []float64
	for i := range o.Samples {
		ext := strconv.Itoa(160000 + round*1000 + i)
		r, d, err := b.createdToDialable(ctx, ext, caller)
		if err != nil {
			return err
		}
		reg, dial = append(reg, r), append(dial, d)
	}
	stride := max(1, p.Users/o.Samples)
	for i := range o.Samples {
		ext := strconv.Itoa(populationBase + i*stride + round) // a different set of users each round
		took, wrong, err := b.changedToRefused(ctx, ext, probe)
		if err != nil {
			return err
		}
		changed, p.Wrong = append(changed, took), p.Wrong+wrong
	}
	for i := range o.Samples {
		ext := strconv.Itoa(160000 + round*1000 + i)
		took, err := b.deletedToRefused(ctx, ext, probe)
		if err != nil {
			return err
		}
		deleted = append(deleted, took)
	}
	p.Registrable, p.Dialable, p.Changed, p.Deleted = percentiles(reg), percentiles(dial), percentiles(changed), percentiles(deleted)

	b.quiet(ctx)
	// Idle means idle in Asterisk too: the samples' new AORs each leave it a scan of every
	// endpoint to do (see ObserverBacklog), which would otherwise run under the idle setups.
	p.SamplesDrainSeconds = b.drainObservers().Seconds()
	if _, err := b.waitOnline(ctx, callees, 2*time.Minute); err != nil {
		return err
	}
	cpu := meterStack()
	if p.SetupIdle, err = b.setupLatency(ctx, callees, o.SetupCalls); err != nil {
		return err
	}
	p.IdleCPU = cpu()
	churn := b.churn(ctx, strconv.Itoa(populationBase+p.Users-o.ChurnUsers), o.ChurnUsers)
	cpu = meterStack()
	p.SetupChurn, err = b.setupLatency(ctx, callees, o.SetupCalls)
	p.ChurnCPU = cpu()
	p.ChurnRate, p.ChurnErrors = churn.stop()
	p.ChurnUsers = o.ChurnUsers
	if err != nil {
		return err
	}
	b.quiet(ctx)
	p.ModuleReloads = reloads.count()
	p.FullPushes = int(b.metric("switchboard_config_full_pushes_total") - full0)
	p.FileWrites = int(b.metric("switchboard_config_file_writes_total") - files0)
	p.SwitchboardRSS, p.AsteriskRSS = switchboardProc().rssMB(), asteriskProc().rssMB()
	return nil
}

// createdToDialable creates ext and returns the milliseconds from the POST until its phone's
// REGISTER is accepted and until a call from caller rings the phone.
func (b *bench) createdToDialable(ctx context.Context, ext string, caller *softphone.Phone) (float64, float64, error) {
	registered, incoming := make(chan struct{}, 1), make(chan struct{}, 1)
	signal := func(c chan struct{}) {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	phone, err := softphone.Open(ctx, softphone.Options{Server: b.sipServer, Username: ext, Password: password(ext),
		OnEvent: func(e softphone.Event) {
			switch e.Kind {
			case softphone.EventRegistered:
				signal(registered)
			case softphone.EventIncoming:
				signal(incoming)
			}
		}})
	if err != nil {
		return 0, 0, err
	}
	defer phone.Close()
	pctx, unregister := context.WithCancel(ctx)
	defer unregister()
	start := time.Now()
	if _, err := b.api.CreateUser(ctx, api.CreateUserRequest{Extension: ext, Name: "Bench " + ext, Password: password(ext)}); err != nil {
		return 0, 0, err
	}
	b.created = append(b.created, ext)
	deadline := start.Add(30 * time.Second)

	// Registrable: REGISTER until accepted; Register keeps the registration until pctx ends.
	var regAt time.Duration
	for regAt == 0 {
		done := make(chan error, 1)
		go func() { done <- phone.Register(pctx, softphone.RegisterOptions{}) }()
		select {
		case <-registered:
			regAt = time.Since(start)
		case <-done: // refused: not in Asterisk yet
			if time.Now().After(deadline) {
				return 0, 0, fmt.Errorf("user %s could not register within 30 s", ext)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Dialable: a call rings the phone (the call is cancelled then).
	var dialAt time.Duration
	for dialAt == 0 {
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := caller.Call(cctx, ext, softphone.CallOptions{RingTimeout: 5 * time.Second})
			done <- err
		}()
		select {
		case <-incoming:
			dialAt = time.Since(start)
			cancel()
			<-done
		case <-done: // not found, or offline for call control: not dialable yet
			cancel()
			if time.Now().After(deadline) {
				return 0, 0, fmt.Errorf("user %s was not dialable within 30 s", ext)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return msOf(regAt), msOf(dialAt), nil
}

// changedToRefused changes ext's password and returns the milliseconds until the old one is
// refused, and 1 when the answers around it were wrong (old password refused before the
// change, or the new one refused after it).
func (b *bench) changedToRefused(ctx context.Context, ext string, probe *probe) (float64, int, error) {
	wrong := 0
	if status, err := probe.register(ctx, ext, password(ext)); err != nil || status != 200 {
		wrong++
	}
	next := "bench-changed-" + ext
	start := time.Now()
	if _, err := b.api.PatchUser(ctx, ext, api.PatchUserRequest{Password: &next}); err != nil {
		return 0, 0, err
	}
	took, err := probe.untilRefused(ctx, ext, password(ext), start)
	if err != nil {
		return 0, 0, err
	}
	if status, err := probe.register(ctx, ext, next); err != nil || status != 200 {
		wrong++
	}
	if _, err := b.api.PatchUser(ctx, ext, api.PatchUserRequest{Password: ptr(password(ext))}); err != nil {
		return 0, 0, err
	}
	return took, min(wrong, 1), nil
}

// deletedToRefused deletes ext and returns the milliseconds until its password is refused.
func (b *bench) deletedToRefused(ctx context.Context, ext string, probe *probe) (float64, error) {
	start := time.Now()
	if err := b.api.DeleteUser(ctx, ext); err != nil {
		return 0, err
	}
	return probe.untilRefused(ctx, ext, password(ext), start)
}

func ptr[T any](v T) *T { return &v }

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// setupLatency places n calls through call control, one at a time, rotating over callees, and
// returns INVITE→200 at the caller.
func (b *bench) setupLatency(ctx context.Context, callees []string, n int) (Percentiles, error) {
	calls := make([]string, n)
	for i := range calls {
		calls[i] = callees[i%len(callees)]
	}
	rtts, err := b.sippSetup(ctx, "provisioning-setup", calls)
	if err != nil {
		return Percentiles{}, err
	}
	var answer []float64
	for _, r := range rtts {
		answer = append(answer, r[1])
	}
	return percentiles(answer), nil
}

// churner changes the passwords of a block of users, round-robin, 100 times a second.
type churner struct {
	b       *bench
	base    int
	users   int
	stopFn  context.CancelFunc
	done    chan struct{}
	changes atomic.Int64
	errors  atomic.Int64
	start   time.Time
}

func (b *bench) churn(ctx context.Context, first string, users int) *churner {
	cctx, cancel := context.WithCancel(ctx)
	base, _ := strconv.Atoi(first)
	c := &churner{b: b, base: base, users: users, stopFn: cancel, done: make(chan struct{}), start: time.Now()}
	go func() {
		defer close(c.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var wg sync.WaitGroup
		defer wg.Wait()
		for i := 0; ; i++ {
			select {
			case <-cctx.Done():
				return
			case <-tick.C:
			}
			ext := strconv.Itoa(base + i%users)
			pw := fmt.Sprintf("bench-churn-%d-%s", i/users, ext)
			wg.Go(func() {
				if _, err := b.api.PatchUser(cctx, ext, api.PatchUserRequest{Password: &pw}); err != nil && cctx.Err() == nil {
					c.errors.Add(1)
					return
				}
				c.changes.Add(1)
			})
		}
	}()
	return c
}

// stop ends the churn, gives the users their bench passwords back and returns the changes per
// second it achieved and its failed requests.
func (c *churner) stop() (float64, int) {
	c.stopFn()
	<-c.done
	rate := float64(c.changes.Load()) / time.Since(c.start).Seconds()
	for i := range c.users {
		ext := strconv.Itoa(c.base + i)
		if _, err := c.b.api.PatchUser(context.Background(), ext, api.PatchUserRequest{Password: ptr(password(ext))}); err != nil {
			c.errors.Add(1)
		}
	}
	return rate, int(c.errors.Load())
}

func (r *ProvisioningResult) markdown() string {
	var b strings.Builder
	b.WriteString("## Provisioning at scale\n\n")
	b.WriteString(r.Method + "\n\n")
	b.WriteString("Growing through the API: Asterisk's res_pjsip (pjsip_options) answers each AOR it did not know with a scan of " +
		"every endpoint, so the control plane brings passes of 100 or more new users to Asterisk through its files and one " +
		"reload of res_pjsip (\"bulk reloads\"); \"observer backlog\" is what was left in sorcery's observer queues once the " +
		"grow was pushed, and how long it took to drain before anything was measured; \"callees offline\" how long the phones " +
		"registered before the grow were not all online for call control after it.\n\n")
	b.WriteString("| users | grow (users/s) | bulk reloads | observer backlog | callees offline | created → registrable p50 / p99 | created → dialable p50 / p99 | changed → old refused p50 / p99 | deleted → refused p50 / p99 | wrong answers | module reloads | full pushes | file writes | switchboard RSS | Asterisk RSS |\n" +
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	pair := func(p Percentiles) string { return fmt.Sprintf("%s / %s (n=%d)", ms(p.P50), ms(p.P99), p.N) }
	for _, p := range r.Points {
		fmt.Fprintf(&b, "| %d | %.0f | %d | %d tasks, %.1f s | %.1f s | %s | %s | %s | %s | %d | %d | %d | %d | %.1f MiB | %.1f MiB |\n", p.Users, p.CreateRate,
			p.BulkReloads, p.ObserverBacklog, p.DrainSeconds, p.CalleesOfflineSeconds,
			pair(p.Registrable), pair(p.Dialable), pair(p.Changed), pair(p.Deleted), p.Wrong, p.ModuleReloads, p.FullPushes,
			p.FileWrites, p.SwitchboardRSS, p.AsteriskRSS)
	}
	b.WriteString("\nCall setup through call control (INVITE→200) with nothing changing and while users change (before the idle " +
		"setups, Asterisk's observer queues are left to drain after the samples' creations: \"drain\"):\n\n" +
		"| users | drain | idle p50 / p99 | churn p50 / p99 | churn | ratio p50 / p99 | CPU idle: Asterisk / serve | CPU churn: Asterisk / serve |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Points {
		fmt.Fprintf(&b, "| %d | %.1f s | %s | %s | %d users, %.0f changes/s, %d failed | %.2f / %.2f | %.0f %% / %.0f %% | %.0f %% / %.0f %% |\n", p.Users,
			p.SamplesDrainSeconds, pair(p.SetupIdle), pair(p.SetupChurn), p.ChurnUsers, p.ChurnRate, p.ChurnErrors,
			p.SetupChurn.P50/p.SetupIdle.P50, p.SetupChurn.P99/p.SetupIdle.P99,
			p.IdleCPU.Asterisk, p.IdleCPU.Switchboard, p.ChurnCPU.Asterisk, p.ChurnCPU.Switchboard)
	}
	fmt.Fprintf(&b, "\nAsterisk restarted with %d users: fully booted after %.1f s; %d of %d sampled users registered again "+
		"%.1f s after the start; %d full pushes by the control plane after it.\n\n", r.Restart.Users, r.Restart.BootSeconds,
		r.Restart.Sampled-r.Restart.Failures, r.Restart.Sampled, r.Restart.ReadySeconds, r.Restart.FullPushes)
	b.WriteString("Targets:\n\n")
	for _, p := range r.Points {
		fmt.Fprintf(&b, "- %d users: created → registrable and dialable p99 %s (≤ 1 s: %s); changed → refused p99 %s, deleted → refused p99 %s (≤ 1 s: %s); "+
			"module reloads %d (none: %s); setup while changing p50 %.2f× and p99 %.2f× idle (≤ 1.2×: %s); control plane RSS %.1f MiB (≤ 128 MiB: %s).\n",
			p.Users, ms(max(p.Registrable.P99, p.Dialable.P99)), check(max(p.Registrable.P99, p.Dialable.P99) <= 1000),
			ms(p.Changed.P99), ms(p.Deleted.P99), check(max(p.Changed.P99, p.Deleted.P99) <= 1000),
			p.ModuleReloads, check(p.ModuleReloads == 0),
			p.SetupChurn.P50/p.SetupIdle.P50, p.SetupChurn.P99/p.SetupIdle.P99,
			check(p.SetupChurn.P50 <= 1.2*p.SetupIdle.P50 && p.SetupChurn.P99 <= 1.2*p.SetupIdle.P99),
			p.SwitchboardRSS, check(p.SwitchboardRSS <= 128))
	}
	fmt.Fprintf(&b, "- Asterisk starts with %d users in %.1f s (≤ 60 s: %s).\n\n", r.Restart.Users, r.Restart.BootSeconds,
		check(r.Restart.BootSeconds <= 60 && r.Restart.Failures == 0))
	return b.String()
}
