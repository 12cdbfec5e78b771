package ari

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

func TestPickAgents(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	free := func(exts ...string) []routing.Party {
		var out []routing.Party
		for _, e := range exts {
			out = append(out, routing.Party{User: switchboard.User{Extension: e}})
		}
		return out
	}
	tests := []struct {
		name     string
		strategy switchboard.QueueStrategy
		last     string
		stats    map[string]agentStats
		free     []routing.Party
		want     string
	}{
		{"RingAll", switchboard.QueueRingAll, "", nil, free("1002", "1004"), "[1002 1004]"},
		{"RoundRobinFromTheStart", switchboard.QueueRoundRobin, "", nil, free("1002", "1003"), "[1002]"},
		{"RoundRobinAfterTheLast", switchboard.QueueRoundRobin, "1002", nil, free("1002", "1003", "1004"), "[1003]"},
		// After the last agent in the list, the first one again; a busy one is skipped.
		{"RoundRobinWraps", switchboard.QueueRoundRobin, "1004", nil, free("1003", "1004"), "[1003]"},
		{"RoundRobinSkipsBusy", switchboard.QueueRoundRobin, "1002", nil, free("1002", "1004"), "[1004]"},
		// Never called comes first (zero time), then the one whose last call ended longest ago.
		{"LeastRecentNeverCalled", switchboard.QueueLeastRecent, "", map[string]agentStats{
			"1002": {lastEnd: t0}}, free("1002", "1003"), "[1003]"},
		{"LeastRecent", switchboard.QueueLeastRecent, "", map[string]agentStats{
			"1002": {lastEnd: t0.Add(time.Minute)}, "1003": {lastEnd: t0}, "1004": {lastEnd: t0.Add(2 * time.Minute)}},
			free("1002", "1003", "1004"), "[1003]"},
		{"FewestCalls", switchboard.QueueFewestCalls, "", map[string]agentStats{
			"1002": {calls: 3}, "1003": {calls: 1}, "1004": {calls: 1}}, free("1002", "1003", "1004"), "[1003]"},
		{"Nobody", switchboard.QueueFewestCalls, "", nil, nil, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := switchboard.Queue{Strategy: tt.strategy, Agents: []switchboard.QueueAgent{
				{Extension: "1002"}, {Extension: "1003"}, {Extension: "1004"}}}
			q := &queueState{agents: map[string]*agentStats{}, last: tt.last}
			for ext, s := range tt.stats {
				q.agents[ext] = &s
			}
			var got []string
			for _, p := range pickAgents(def, q, tt.free) {
				got = append(got, p.User.Extension)
			}
			if s := fmt.Sprint(got); s != tt.want {
				t.Errorf("picked %s, want %s", s, tt.want)
			}
		})
	}
}
