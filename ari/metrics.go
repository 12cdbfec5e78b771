package ari

import "github.com/prometheus/client_golang/prometheus"

// Metrics are call control's Prometheus metrics.
type Metrics struct {
	calls  *prometheus.CounterVec
	active prometheus.Gauge
	setup  prometheus.Histogram
	bridge prometheus.Histogram
}

// NewMetrics creates the metrics and registers them with r (when not nil).
func NewMetrics(r prometheus.Registerer) *Metrics {
	buckets := []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1}
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_calls_total",
			Help: "Calls by outcome (answered, voicemail, missed, failed, cancelled)."}, []string{"outcome"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchboard_calls_active",
			Help: "Calls call control is driving now."}),
		setup: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_call_setup_seconds",
			Help: "From the caller entering the app to the callee being dialled: the control plane's share of call setup.", Buckets: buckets}),
		bridge: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_call_bridge_seconds",
			Help: "From the callee answering to both legs bridged.", Buckets: buckets}),
	}
	if r != nil {
		r.MustRegister(m.calls, m.active, m.setup, m.bridge)
	}
	return m
}
