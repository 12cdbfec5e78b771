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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/ari"
	"github.com/switchboard-pbx/switchboard/fastagi"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

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
	metrics := newApplyMetrics(registry)
	applier := &provisioning.Applier{Store: users, Reloader: ariClient, Dir: cfg.ConfigDir,
		Globals: globals, Logger: logger.With("component", "config"), OnApply: metrics.observe,
		Directory: directory}
	// Asterisk may have restarted or missed reloads while it was away.
	ariClient.OnConnect(func(context.Context) { applier.ReloadAll() })

	recorder := &ari.Recorder{Store: &postgres.CallStore{DB: db}, Logger: logger.With("component", "records")}
	app := &ari.App{Asterisk: ariClient, Users: directory, Recorder: recorder,
		Logger: logger.With("component", "calls"), Metrics: ari.NewMetrics(registry)}
	agiServer := &fastagi.Server{Users: directory, Recorder: recorder, Logger: logger.With("component", "fastagi")}
	agiListener, err := net.Listen("tcp", cfg.AGIListen)
	if err != nil {
		return fmt.Errorf("FastAGI: %w", err)
	}
	registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchboard_ari_events_unknown_total",
		Help: "ARI events of types ari/v5 cannot decode, dropped."}, func() float64 { return float64(ariClient.UnknownEvents()) }))

	server, err := api.NewServer(api.Server{
		Users:  &provisioning.Service{Store: users, Config: applier, Presence: ariClient},
		Calls:  &ari.Calls{App: app, Store: &postgres.CallStore{DB: db}, Asterisk: ariClient},
		Token:  cfg.AdminToken,
		Logger: logger.With("component", "api"),
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
	})
	if err != nil {
		return err
	}
	httpServer := &http.Server{
		Addr:              cfg.Listen,
		Handler:           server.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	// Call control and records stop only after everything else: calls in progress are left to
	// Asterisk (their hangup handlers end them) and queued records get a last write.
	recordsCtx, stopRecords := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRecords()
	var records sync.WaitGroup
	records.Go(func() { recorder.Run(recordsCtx) })
	app.Start(ctx, ariClient)
	wg.Go(func() { ariClient.Run(ctx) })
	wg.Go(func() { applier.Run(ctx) })
	wg.Go(func() {
		logger.Info("FastAGI listening", "addr", cfg.AGIListen, "url", cfg.AGIURL)
		if err := agiServer.Serve(ctx, agiListener); err != nil {
			errc <- err
		}
	})
	wg.Go(func() {
		logger.Info("API listening", "addr", cfg.Listen)
		if err := httpServer.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("API server: %w", err)
		}
	})
	var debugServer *http.Server
	if cfg.DebugListen != "" {
		debugServer = &http.Server{Addr: cfg.DebugListen, Handler: profiler(), ReadHeaderTimeout: 5 * time.Second}
		wg.Go(func() {
			logger.Info("profiler listening", "addr", cfg.DebugListen)
			if err := debugServer.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("profiler: %w", err)
			}
		})
	}
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-errc:
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	httpServer.Shutdown(shutdownCtx)
	if debugServer != nil {
		debugServer.Close()
	}
	cancel()
	wg.Wait()
	app.Wait()
	stopRecords()
	records.Wait()
	return err
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

// applyMetrics exports what the configuration applier does.
type applyMetrics struct {
	duration prometheus.Histogram
	last     prometheus.Gauge
	passes   prometheus.Counter
	reloads  *prometheus.CounterVec
	failures prometheus.Counter
}

func newApplyMetrics(r *prometheus.Registry) *applyMetrics {
	m := &applyMetrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_config_apply_duration_seconds",
			Help: "Render, write and reload time of one configuration pass.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchboard_config_apply_last_seconds",
			Help: "Duration of the last successful configuration pass (render, write, reload)."}),
		passes: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_config_applies_total",
			Help: "Successful configuration passes."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_asterisk_reloads_total",
			Help: "Asterisk module reloads by module."}, []string{"module"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_config_apply_failures_total",
			Help: "Configuration passes that failed (database or Asterisk unreachable)."}),
	}
	r.MustRegister(m.duration, m.last, m.passes, m.reloads, m.failures)
	return m
}

func (m *applyMetrics) observe(d time.Duration, reloaded []string, err error) {
	m.duration.Observe(d.Seconds())
	for _, mod := range reloaded {
		m.reloads.WithLabelValues(mod).Inc()
	}
	if err != nil {
		m.failures.Inc()
		return
	}
	m.passes.Inc()
	m.last.Set(d.Seconds())
}
