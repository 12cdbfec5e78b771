package media

import (
	"math"
	"time"
)

// Level returns the level of samples in dBFS: their RMS compared with the RMS of a full-scale
// sine, so that a sine at -20 dBFS measures -20. Silence is -inf.
func Level(samples []int16) float64 {
	if len(samples) == 0 {
		return math.Inf(-1)
	}
	var sum float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
	}
	rms := math.Sqrt(sum / float64(len(samples)))
	return AmplitudeToDBFS(rms * math.Sqrt2 / FullScale)
}

// LevelMeter summarises the loudness of a stream: how much of it carried sound above a
// threshold and how loud it was at its loudest. It tells a received announcement from silence.
type LevelMeter struct {
	// Threshold is the level in dBFS above which a frame counts as active. Zero means -45 dBFS,
	// well above G.711 idle noise and well below speech.
	Threshold  float64
	SampleRate int // zero means 8000

	frames, active int
	samples        int
	activeSamples  int
	peak           float64
	sum            float64
}

// Write measures one frame (typically one RTP packet of 20 ms).
func (m *LevelMeter) Write(frame []int16) {
	if len(frame) == 0 {
		return
	}
	threshold := m.Threshold
	if threshold == 0 {
		threshold = -45
	}
	level := Level(frame)
	if m.frames == 0 || level > m.peak {
		m.peak = level
	}
	m.frames++
	m.samples += len(frame)
	for _, s := range frame {
		v := float64(s)
		m.sum += v * v
	}
	if level >= threshold {
		m.active++
		m.activeSamples += len(frame)
	}
}

// LevelSummary is what a LevelMeter measured.
type LevelSummary struct {
	Duration time.Duration // audio measured
	Active   time.Duration // audio above the threshold
	Peak     float64       // loudest frame, dBFS (-120 for silence)
	Mean     float64       // level of everything measured, dBFS (-120 for silence)
}

// Summary returns what the meter measured so far.
func (m *LevelMeter) Summary() LevelSummary {
	rate := m.SampleRate
	if rate == 0 {
		rate = SampleRate
	}
	mean := math.Inf(-1)
	if m.samples > 0 {
		rms := math.Sqrt(m.sum / float64(m.samples))
		mean = AmplitudeToDBFS(rms * math.Sqrt2 / FullScale)
	}
	peak := m.peak
	if m.frames == 0 {
		peak = math.Inf(-1)
	}
	return LevelSummary{
		Duration: samplesToDuration(m.samples, rate),
		Active:   samplesToDuration(m.activeSamples, rate),
		Peak:     ClampDBFS(peak),
		Mean:     ClampDBFS(mean),
	}
}

func samplesToDuration(n, rate int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(rate)
}
