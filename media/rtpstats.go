package media

import (
	"time"
)

// RTPStats computes receive statistics of one RTP stream as RFC 3550 defines them: packets
// expected from the sequence numbers (appendix A.1, with 16-bit wrap-around), packets lost, and
// the interarrival jitter estimate (section 6.4.1, appendix A.8). When the sender changes SSRC,
// as a PBX may when it switches what it plays, counting continues with the new source.
//
// An RTPStats is not safe for concurrent use.
type RTPStats struct {
	// ClockRate is the RTP timestamp rate of the payload in hertz; zero means 8000.
	ClockRate int

	started bool
	ssrc    uint32
	// the current source
	baseSeq  uint32
	maxSeq   uint16
	cycles   uint32
	received uint64
	// earlier sources
	doneExpected uint64
	doneReceived uint64

	ref        time.Time // arrival clock origin
	transit    float64   // previous transit time, timestamp units
	hasTransit bool
	jitter     float64 // timestamp units
}

// Update accounts for one packet received at arrival.
func (s *RTPStats) Update(ssrc uint32, seq uint16, timestamp uint32, arrival time.Time) {
	if s.ClockRate == 0 {
		s.ClockRate = SampleRate
	}
	if !s.started || ssrc != s.ssrc {
		if s.started {
			s.doneExpected += s.expected()
			s.doneReceived += s.received
		} else {
			s.ref = arrival
		}
		s.started = true
		s.ssrc = ssrc
		s.baseSeq, s.maxSeq, s.cycles, s.received = uint32(seq), seq, 0, 0
		s.hasTransit = false
	}
	s.received++
	if delta := seq - s.maxSeq; delta != 0 && delta < 0x8000 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16 // the sequence number wrapped around
		}
		s.maxSeq = seq
	}
	// Transit time in timestamp units; only differences matter, so the arrival clock's origin
	// and the sender's random timestamp offset cancel out.
	arrivalTS := arrival.Sub(s.ref).Seconds() * float64(s.ClockRate)
	transit := arrivalTS - float64(timestamp)
	if s.hasTransit {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		// Timestamps wrap at 2^32; a jump that large is a wrap or a new timeline, not jitter.
		if d < 1<<31 {
			s.jitter += (d - s.jitter) / 16
		}
	}
	s.transit, s.hasTransit = transit, true
}

func (s *RTPStats) expected() uint64 {
	if !s.started {
		return 0
	}
	return uint64(s.cycles) + uint64(s.maxSeq) - uint64(s.baseSeq) + 1
}

// RTPReceiveSummary is a snapshot of RTPStats.
type RTPReceiveSummary struct {
	Received uint64        // packets received, duplicates included
	Expected uint64        // packets the sequence numbers say were sent
	Lost     int64         // Expected - Received; negative when duplicates arrived
	Loss     float64       // Lost / Expected in percent, 0 when nothing was lost
	Jitter   time.Duration // interarrival jitter
}

// Summary returns the statistics so far.
func (s *RTPStats) Summary() RTPReceiveSummary {
	rate := s.ClockRate
	if rate == 0 {
		rate = SampleRate
	}
	sum := RTPReceiveSummary{
		Received: s.doneReceived + s.received,
		Expected: s.doneExpected + s.expected(),
		Jitter:   time.Duration(s.jitter / float64(rate) * float64(time.Second)),
	}
	sum.Lost = int64(sum.Expected) - int64(sum.Received)
	if sum.Lost > 0 && sum.Expected > 0 {
		sum.Loss = 100 * float64(sum.Lost) / float64(sum.Expected)
	}
	return sum
}
