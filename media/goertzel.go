package media

import (
	"math"
	"time"
)

// ToneAmplitude measures the component of block at freq with the Goertzel algorithm over a Hann
// window and returns its peak amplitude relative to full scale (1 = a full-scale sine). The
// window keeps a strong tone 100 Hz away from leaking into the measured frequency.
func ToneAmplitude(block []int16, freq float64, sampleRate int) float64 {
	return toneAmplitude(block, hann(len(block)), freq, sampleRate)
}

func toneAmplitude(block []int16, window []float64, freq float64, sampleRate int) float64 {
	if len(block) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(sampleRate))
	var s1, s2, gain float64
	for i, v := range block {
		s := float64(v)*window[i] + coeff*s1 - s2
		s2, s1 = s1, s
		gain += window[i]
	}
	// |X(f)|² for any f, integer bin or not.
	power := s1*s1 + s2*s2 - coeff*s1*s2
	if power < 0 {
		power = 0
	}
	return 2 * math.Sqrt(power) / gain / FullScale
}

func hann(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return w
}

// ToneDetector decides whether a steady tone of one frequency is present in a stream of PCM. The
// stream is cut into blocks; a block holds the tone when the tone carries at least MinPurity of
// the block's power and is louder than MinLevel. The tone is detected when consecutive tone
// blocks last at least MinDuration, which speech, music and noise do not sustain at one
// frequency.
//
// The zero values of the tuning fields select defaults that suit telephone audio. A
// ToneDetector is not safe for concurrent use.
type ToneDetector struct {
	Freq        float64       // hertz
	SampleRate  int           // zero means 8000
	Block       time.Duration // analysis block; zero means 50 ms (20 Hz resolution)
	MinPurity   float64       // share of block power in the tone; zero means 0.5
	MinLevel    float64       // dBFS; zero means -50
	MinDuration time.Duration // longest run of tone blocks needed; zero means 250 ms

	window     []float64
	buf        []int16
	blocks     int
	toneBlocks int
	run        int
	longestRun int
	toneEnergy float64 // sum of squared amplitudes of tone blocks
}

// NewToneDetector returns a detector of freq hertz with the default tuning.
func NewToneDetector(freq float64, sampleRate int) *ToneDetector {
	return &ToneDetector{Freq: freq, SampleRate: sampleRate}
}

func (d *ToneDetector) init() {
	if d.window != nil {
		return
	}
	if d.SampleRate == 0 {
		d.SampleRate = SampleRate
	}
	if d.Block == 0 {
		d.Block = 50 * time.Millisecond
	}
	if d.MinPurity == 0 {
		d.MinPurity = 0.5
	}
	if d.MinLevel == 0 {
		d.MinLevel = -50
	}
	if d.MinDuration == 0 {
		d.MinDuration = 250 * time.Millisecond
	}
	n := int(d.Block * time.Duration(d.SampleRate) / time.Second)
	if n < 16 {
		n = 16
	}
	d.window = hann(n)
	d.buf = make([]int16, 0, n)
}

// Write feeds samples to the detector.
func (d *ToneDetector) Write(samples []int16) {
	d.init()
	for len(samples) > 0 {
		take := min(cap(d.buf)-len(d.buf), len(samples))
		d.buf = append(d.buf, samples[:take]...)
		samples = samples[take:]
		if len(d.buf) == cap(d.buf) {
			d.analyse(d.buf)
			d.buf = d.buf[:0]
		}
	}
}

func (d *ToneDetector) analyse(block []int16) {
	d.blocks++
	amp := toneAmplitude(block, d.window, d.Freq, d.SampleRate)
	var sum float64
	for _, v := range block {
		f := float64(v) / FullScale
		sum += f * f
	}
	total := sum / float64(len(block)) // mean power; a sine of amplitude a has a²/2
	tone := amp * amp / 2
	if total > 0 && tone/total >= d.MinPurity && AmplitudeToDBFS(amp) >= d.MinLevel {
		d.toneBlocks++
		d.toneEnergy += amp * amp
		d.run++
		d.longestRun = max(d.longestRun, d.run)
		return
	}
	d.run = 0
}

// Detected reports whether the tone has been detected so far.
func (d *ToneDetector) Detected() bool {
	d.init()
	return d.blockDuration(d.longestRun) >= d.MinDuration
}

func (d *ToneDetector) blockDuration(blocks int) time.Duration {
	return time.Duration(blocks*len(d.window)) * time.Second / time.Duration(d.SampleRate)
}

// ToneResult is what a ToneDetector found.
type ToneResult struct {
	Freq       float64       // the frequency looked for, hertz
	Detected   bool          // a run of tone blocks lasted at least MinDuration
	Level      float64       // mean level of the tone where present, dBFS (-120 when absent)
	Duration   time.Duration // total time the tone was present
	LongestRun time.Duration // longest uninterrupted presence
	Analysed   time.Duration // audio analysed
}

// Result returns what the detector found so far.
func (d *ToneDetector) Result() ToneResult {
	d.init()
	level := math.Inf(-1)
	if d.toneBlocks > 0 {
		level = AmplitudeToDBFS(math.Sqrt(d.toneEnergy / float64(d.toneBlocks)))
	}
	return ToneResult{
		Freq:       d.Freq,
		Detected:   d.Detected(),
		Level:      ClampDBFS(level),
		Duration:   d.blockDuration(d.toneBlocks),
		LongestRun: d.blockDuration(d.longestRun),
		Analysed:   d.blockDuration(d.blocks),
	}
}

// DetectTone runs a default ToneDetector for freq over samples.
func DetectTone(samples []int16, freq float64, sampleRate int) ToneResult {
	d := NewToneDetector(freq, sampleRate)
	d.Write(samples)
	return d.Result()
}
