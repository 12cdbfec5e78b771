package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/switchboard-pbx/switchboard/ami"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/ari"
	"github.com/switchboard-pbx/switchboard/fastagi"
	"github.com/switchboard-pbx/switchboard/mailer"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/realtime"
	"github.com/switchboard-pbx/switchboard/records"
	"github.com/switchboard-pbx/switchboard/voicemail"
)

// The ARI client is what configuration reaches the running Asterisk through.
var _ provisioning.Asterisk = (*ari.Client)(nil)

func serve(ctx context.Context) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	logger := newLogger(cfg)
	slog.SetDefault(logger)

	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrateWithRetry(ctx, db, logger); err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	ariClient, err := ari.NewClient(ari.Config{URL: cfg.ARIURL, Username: cfg.ARIUsername,
		Password: cfg.ARIPassword, App: cfg.ARIApp, Logger: logger.With("component", "ari")})
	if err != nil {
		return err
	}
	users := &postgres.UserStore{DB: db}
	directory := &provisioning.Directory{Store: users}
	globals := provisioning.DialplanGlobals{App: cfg.ARIApp, AGIURL: cfg.AGIURL}
	if err := globals.Validate(); err != nil {
		return err
	}
	rt, err := realtime.Open(ctx, filepath.Join(cfg.ConfigDir, provisioning.RealtimeFile))
	if err != nil {
		return err
	}
	defer rt.Close()
	metrics := newSyncMetrics(registry)
	syncer := &provisioning.Syncer{Store: users, Asterisk: ariClient, Realtime: rt, Directory: directory,
		Dir: cfg.ConfigDir, Globals: globals, Logger: logger.With("component", "config"), OnSync: metrics.observe}
	metrics.watch(registry, syncer)
	// The Asterisk reached may have restarted (or be another one): it is asked what it holds.
	ariClient.OnConnect(func(context.Context) { syncer.Reconnected() })

	callStore := &postgres.CallStore{DB: db}
	recorder := &records.Writer{Store: callStore, Logger: logger.With("component", "records")}
	roomStore, groupStore, queueStore := &postgres.RoomStore{DB: db}, &postgres.GroupStore{DB: db}, &postgres.QueueStore{DB: db}
	app := &ari.App{Asterisk: ariClient, Users: directory, Rooms: roomStore, Groups: groupStore, Queues: queueStore, Numbers: db,
		Records: recorder, Logger: logger.With("component", "calls"), Metrics: ari.NewMetrics(registry)}
	userService := &provisioning.Service{Store: users, Config: syncer, Presence: ariClient, Directory: directory}
	// Ring groups' and call queues' own mailboxes, where app_voicemail finds them: rewritten at
	// start (the realtime database may have been started afresh) and after every change.
	shared := &provisioning.SharedMailboxes{Groups: groupStore, Queues: queueStore, Realtime: rt}
	if err := shared.Sync(ctx); err != nil {
		logger.Warn("shared mailboxes not written; they are at the next change of a group or queue", "error", err)
	}
	queueService := &provisioning.QueueService{Store: queueStore, Live: app, Mailboxes: shared}
	agiServer := &fastagi.Server{Users: directory, Records: recorder, Features: userService, Queues: queueService,
		Shared: shared, Logger: logger.With("component", "fastagi")}
	registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchboard_ari_requests_total",
		Help: "REST requests sent to Asterisk (call control, presence and configuration pushes)."},
		func() float64 { return float64(ariClient.Requests()) }))
	registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchboard_ari_events_unknown_total",
		Help: "ARI events of types ari/v5 cannot decode, dropped."}, func() float64 { return float64(ariClient.UnknownEvents()) }))

	// Voicemail messages are read from the spool and changed through app_voicemail's manager
	// actions, over the HTTP server (and user) ARI uses.
	amiClient, err := ami.New(ami.Config{URL: cfg.ARIURL, Username: cfg.ARIUsername, Password: cfg.ARIPassword,
		Logger: logger.With("component", "ami")})
	if err != nil {
		return err
	}
	mailboxes := &voicemail.Mailboxes{Spool: voicemail.Spool{Dir: cfg.SpoolDir}, Manager: amiClient}
	// New messages are mailed when there is a relay: the FastAGI helper says who is about to get
	// one, the notifier does the rest off the call's path.
	var notifier *voicemail.Notifier
	if cfg.SMTP.Host != "" {
		smtp := cfg.SMTP
		smtp.Logger = logger.With("component", "smtp")
		relay, err := mailer.New(smtp)
		if err != nil {
			return fmt.Errorf("SMTP relay: %w", err)
		}
		outbox := &postgres.MailOutbox{DB: db}
		notifier = &voicemail.Notifier{Mailboxes: mailboxes, Outbox: outbox, Owners: outbox,
			Sender: letterSender{relay}, RetryMax: cfg.SMTPRetryMax, Logger: logger.With("component", "mail")}
		agiServer.Mail = notifier
	} else {
		logger.Info("voicemail is not mailed: SMTP_HOST is not set")
	}

	// Trunks: pushed into Asterisk (all of them again on every connection), watched (AMI for
	// registrations, ARI for reachability and channels), and used by call control through the
	// outbound routes and inbound numbers.
	routeStore, trunkStore := &postgres.RouteStore{DB: db}, &postgres.TrunkStore{DB: db}
	didStore := &postgres.InboundNumberStore{DB: db}
	trunkMonitor := &provisioning.TrunkMonitor{Store: trunkStore, Probe: trunkProbe{ami: amiClient, ari: ariClient},
		Logger: logger.With("component", "trunks")}
	trunkSyncer := &provisioning.TrunkSyncer{Store: trunkStore, Asterisk: ariClient, Logger: logger.With("component", "trunks"),
		OnChange: trunkMonitor.Check}
	ariClient.OnConnect(func(context.Context) { trunkSyncer.Reconnected() })
	outside := &provisioning.Outside{Trunks: trunkStore, Routes: routeStore, Numbers: didStore}
	app.Outside = outside
	// Emergency numbers also work while call control is away: the fallback dialplan finds them
	// in the realtime database, written at start and after every change of a route.
	emergency := &provisioning.EmergencySync{Routes: routeStore, Table: rt}
	if err := emergency.Sync(ctx); err != nil {
		logger.Warn("emergency numbers not written for the fallback; they are at the next change of a route", "error", err)
	}
	routesChanged := func() {
		outside.Changed()
		if err := emergency.Sync(context.WithoutCancel(ctx)); err != nil {
			logger.Warn("emergency numbers not written for the fallback", "error", err)
		}
	}
	trunkService := &provisioning.TrunkService{Store: trunkStore, Routes: routeStore, Sync: trunkSyncer, Status: trunkMonitor}

	server, err := api.NewServer(api.Server{
		Users:          userService,
		Voicemail:      &provisioning.VoicemailService{Users: users, Mailboxes: mailboxes, GreetingStore: mailboxes, Shared: shared},
		Rooms:          &provisioning.RoomService{Store: roomStore, Live: app},
		Groups:         &provisioning.GroupService{Store: groupStore, Mailboxes: shared},
		Queues:         queueService,
		Trunks:         trunkService,
		Routes:         &provisioning.RouteService{Store: routeStore, Changed: routesChanged},
		InboundNumbers: &provisioning.InboundNumberService{Store: didStore, Numbers: db},
		Audit:          &postgres.AuditStore{DB: db},
		Calls:          &ari.Calls{App: app, Store: callStore, Asterisk: ariClient},
		Token:          cfg.AdminToken,
		Logger:         logger.With("component", "api"),
		Ready: []api.Check{
			{Name: "postgres", Check: db.Ping},
			{Name: "ari", Check: func(context.Context) error {
				if !ariClient.Connected() {
					return errors.New("not connected")
				}
				return nil
			}},
		},
		Registry: registry,
		Metrics:  cfg.Metrics,
	})
	if err != nil {
		return err
	}
	// Listen before anything starts, so that a port in use fails serve at once.
	agiListener, err := net.Listen("tcp", cfg.AGIListen)
	if err != nil {
		return fmt.Errorf("FastAGI: %w", err)
	}
	apiListener, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		agiListener.Close()
		return fmt.Errorf("API: %w", err)
	}
	httpServer := &http.Server{
		Handler:           server.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	servers := []*http.Server{httpServer}
	listeners := []net.Listener{apiListener}
	if cfg.MetricsListen != "" {
		metricsListener, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			agiListener.Close()
			apiListener.Close()
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", server.MetricsHandler())
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second})
		listeners = append(listeners, metricsListener)
	}
	if cfg.DebugListen != "" {
		debugListener, err := net.Listen("tcp", cfg.DebugListen)
		if err != nil {
			agiListener.Close()
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("profiler: %w", err)
		}
		servers = append(servers, &http.Server{Handler: profiler(), ReadHeaderTimeout: 5 * time.Second})
		listeners = append(listeners, debugListener)
	}

	// Call records are written until everything else has stopped, then get a last flush.
	recordsCtx, stopRecords := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRecords()
	var records sync.WaitGroup
	records.Go(func() { recorder.Run(recordsCtx) })

	// Every part runs in one group: the first to fail (a listener, say) stops the others, and
	// a signal stops them all. Calls in progress are not touched by stopping: call control
	// leaves them to Asterisk, which keeps them going, and reconciles when it starts again.
	g, gctx := errgroup.WithContext(ctx)
	app.Start(gctx, ariClient)
	g.Go(func() error { ariClient.Run(gctx); return nil })
	g.Go(func() error { syncer.Run(gctx); return nil })
	g.Go(func() error { trunkSyncer.Run(gctx); return nil })
	g.Go(func() error { trunkMonitor.Run(gctx); return nil })
	if notifier != nil {
		g.Go(func() error { notifier.Run(gctx); return nil })
	}
	g.Go(func() error {
		logger.Info("FastAGI listening", "addr", cfg.AGIListen, "url", cfg.AGIURL)
		return agiServer.Serve(gctx, agiListener)
	})
	for i, srv := range servers {
		g.Go(func() error {
			logger.Info("HTTP listening", "addr", listeners[i].Addr().String())
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("HTTP server %s: %w", listeners[i].Addr(), err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 3*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				srv.Close()
			}
			return nil
		})
	}
	<-gctx.Done()
	logger.Info("shutting down: calls in progress stay up in Asterisk")
	err = g.Wait()
	waitFor(app.Wait, 5*time.Second, func() { logger.Warn("call control did not stop within 5 s") })
	stopRecords()
	records.Wait()
	logger.Info("stopped")
	return err
}

// waitFor runs wait, giving up after d (and calling late).
func waitFor(wait func(), d time.Duration, late func()) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		late()
	}
}

// profiler serves Go's runtime profiles (go tool pprof http://ADDR/debug/pprof/profile).
func profiler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// migrateWithRetry applies migrations, waiting up to a minute for PostgreSQL to come up: under
// compose the database may still be starting.
func migrateWithRetry(ctx context.Context, db *postgres.DB, logger *slog.Logger) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := db.Migrate(ctx, logger)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		logger.Warn("database not ready, retrying", "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func migrate(ctx context.Context) error {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is not set")
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return migrateWithRetry(ctx, db, slog.New(slog.NewTextHandler(os.Stderr, nil)))
}

func healthcheck(ctx context.Context) error {
	addr := getenv("SWITCHBOARD_LISTEN", ":8080")
	if addr[0] == ':' {
		addr = "127.0.0.1" + addr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz answered %d", resp.StatusCode)
	}
	return nil
}

// syncMetrics exports what the configuration syncer does.
type syncMetrics struct {
	duration prometheus.Histogram
	failures prometheus.Counter
}

func newSyncMetrics(r *prometheus.Registry) *syncMetrics {
	m := &syncMetrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_config_sync_duration_seconds",
			Help:    "Time of one configuration pass (directory, realtime tables, pushes to Asterisk).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_config_sync_failures_total",
			Help: "Configuration passes or file writes that failed (database, realtime tables or Asterisk unreachable)."}),
	}
	r.MustRegister(m.duration, m.failures)
	return m
}

func (m *syncMetrics) observe(d time.Duration, err error) {
	m.duration.Observe(d.Seconds())
	if err != nil {
		m.failures.Inc()
	}
}

// watch exports the syncer's counters.
func (m *syncMetrics) watch(r *prometheus.Registry, s *provisioning.Syncer) {
	counter := func(name, help string, f func(provisioning.SyncStats) int) {
		r.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f(s.Stats())) }))
	}
	counter("switchboard_config_syncs_total", "Configuration passes that brought something up to date.",
		func(st provisioning.SyncStats) int { return st.Syncs })
	counter("switchboard_config_pushed_users_total", "Users pushed to Asterisk (deleted users' tombstones included).",
		func(st provisioning.SyncStats) int { return st.Pushed })
	counter("switchboard_config_full_pushes_total", "Pushes of every user (Asterisk held no configuration version).",
		func(st provisioning.SyncStats) int { return st.FullPush })
	counter("switchboard_config_file_writes_total", "Generated files written.",
		func(st provisioning.SyncStats) int { return st.FileWrite })
	counter("switchboard_config_bulk_reloads_total", "Bulks of users brought to Asterisk by its files and one reload of res_pjsip.",
		func(st provisioning.SyncStats) int { return st.Bulk })
	holders := map[string]func(provisioning.Versions) int64{
		"store":     func(v provisioning.Versions) int64 { return v.Store },
		"directory": func(v provisioning.Versions) int64 { return v.Directory },
		"realtime":  func(v provisioning.Versions) int64 { return v.Realtime },
		"asterisk":  func(v provisioning.Versions) int64 { return v.Asterisk },
		"files":     func(v provisioning.Versions) int64 { return v.Files },
	}
	for holder, f := range holders {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_config_version",
			Help:        "Configuration version each holder is at (store: the newest the database had at the last pass; -1: unknown).",
			ConstLabels: prometheus.Labels{"holder": holder}},
			func() float64 { return float64(f(s.Versions())) }))
	}
}
