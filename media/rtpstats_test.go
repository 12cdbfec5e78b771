package media_test

import (
	"math"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/media"
)

// packet is one received RTP packet: its header fields and when it arrived, relative to the
// first packet.
type packet struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	arrival time.Duration
}

// stream returns n packets of 20 ms (160 timestamp units at 8 kHz) starting at seq, each
// arriving at its send time plus delay(i).
func stream(ssrc uint32, seq uint16, ts uint32, n int, delay func(i int) time.Duration) []packet {
	var pkts []packet
	for i := range n {
		pkts = append(pkts, packet{ssrc, seq + uint16(i), ts + uint32(160*i), time.Duration(i)*20*time.Millisecond + delay(i)})
	}
	return pkts
}

func drop(pkts []packet, seqs ...uint16) []packet {
	var out []packet
next:
	for _, p := range pkts {
		for _, s := range seqs {
			if p.seq == s {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

func constant(time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return 0 }
}

func TestRTPStats(t *testing.T) {
	noDelay := constant(0)
	// Alternating 0 / 10 ms extra delay: every transit difference is 80 timestamp units, so the
	// estimate converges on 10 ms: J_n = 80 (1 - (15/16)^(n-1)).
	alternating := func(i int) time.Duration { return time.Duration(i%2) * 10 * time.Millisecond }
	converged := units(80 * (1 - math.Pow(15.0/16, 199)))
	// One late packet: a jump of 40 ms (320 units) in and out again, J = 320/16 then
	// J + (320-J)/16, then decay over the 93 packets that follow.
	oneLate := func(i int) time.Duration {
		if i == 5 {
			return 40 * time.Millisecond
		}
		return 0
	}
	late := units((20 + 300.0/16) * math.Pow(15.0/16, 93))
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                 string
		pkts                 []packet
		want                 media.RTPReceiveSummary // Jitter ignored here
		jitterMin, jitterMax time.Duration
	}{
		{"NoLossNoJitter", stream(1, 100, 5000, 50, noDelay), media.RTPReceiveSummary{Received: 50, Expected: 50}, 0, 0},
		{"FiveLost", drop(stream(1, 100, 0, 100, noDelay), 110, 111, 150, 170, 198),
			media.RTPReceiveSummary{Received: 95, Expected: 100, Lost: 5, Loss: 5}, 0, 0},
		// The last packets lost cannot be seen; loss counts up to the highest sequence number.
		{"TailLostInvisible", stream(1, 0, 0, 10, noDelay)[:8], media.RTPReceiveSummary{Received: 8, Expected: 8}, 0, 0},
		// Sequence numbers wrap from 65535 to 0 without counting 65536 losses.
		{"SequenceWrap", drop(stream(7, 65530, 0, 20, noDelay), 65535, 2),
			media.RTPReceiveSummary{Received: 18, Expected: 20, Lost: 2, Loss: 10}, 0, 0},
		// A duplicate makes Lost negative, as RFC 3550 allows; Loss stays 0.
		{"Duplicate", append(stream(1, 0, 0, 10, noDelay), packet{1, 9, 1440, 180 * time.Millisecond}),
			media.RTPReceiveSummary{Received: 11, Expected: 10, Lost: -1}, 0, 0},
		// Packets 4 and 5 swapped on the way: not a loss, but 20 ms of transit variation.
		{"Reordered", func() []packet {
			p := stream(1, 0, 0, 10, noDelay)
			p[4].seq, p[4].ts, p[5].seq, p[5].ts = p[5].seq, p[5].ts, p[4].seq, p[4].ts
			return p
		}(), media.RTPReceiveSummary{Received: 10, Expected: 10}, time.Millisecond, 6 * time.Millisecond},
		{"AlternatingDelay", stream(1, 0, 0, 200, alternating),
			media.RTPReceiveSummary{Received: 200, Expected: 200}, converged - time.Microsecond, converged + time.Microsecond},
		{"OneLatePacket", stream(1, 0, 0, 100, oneLate),
			media.RTPReceiveSummary{Received: 100, Expected: 100}, late - time.Microsecond, late + time.Microsecond},
		// A new SSRC (the PBX switched sources) starts a new count; nothing is lost in between,
		// and the new source's timeline is not jitter.
		{"NewSource", append(stream(1, 100, 0, 10, noDelay), stream(2, 40000, 99999, 10, func(int) time.Duration { return 200 * time.Millisecond })...),
			media.RTPReceiveSummary{Received: 20, Expected: 20}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s media.RTPStats
			for _, p := range tc.pkts {
				s.Update(p.ssrc, p.seq, p.ts, t0.Add(p.arrival))
			}
			got := s.Summary()
			if got.Jitter < tc.jitterMin || got.Jitter > tc.jitterMax {
				t.Errorf("jitter %v, want %v..%v", got.Jitter, tc.jitterMin, tc.jitterMax)
			}
			got.Jitter = 0
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// units converts RTP timestamp units at 8 kHz to a duration.
func units(u float64) time.Duration { return time.Duration(u / 8000 * float64(time.Second)) }
