package media

import (
	"math"
)

// ToneGenerator produces a continuous sine wave, frame after frame, without phase jumps between
// frames, so that a detector on the far side sees one steady tone.
type ToneGenerator struct {
	amplitude float64
	step      float64 // phase increment per sample, in radians
	phase     float64
}

// NewToneGenerator returns a generator of a freq-hertz sine at level dBFS (0 dBFS is a
// full-scale sine) for the given sample rate.
func NewToneGenerator(freq, level float64, sampleRate int) *ToneGenerator {
	return &ToneGenerator{
		amplitude: FullScale * DBFSToAmplitude(level),
		step:      2 * math.Pi * freq / float64(sampleRate),
	}
}

// Read fills frame with the next samples of the tone.
func (g *ToneGenerator) Read(frame []int16) {
	for i := range frame {
		frame[i] = clamp16(g.amplitude * math.Sin(g.phase))
		g.phase += g.step
		if g.phase > 2*math.Pi {
			g.phase -= 2 * math.Pi
		}
	}
}

// Tone returns n samples of a freq-hertz sine at level dBFS.
func Tone(freq, level float64, sampleRate, n int) []int16 {
	samples := make([]int16, n)
	NewToneGenerator(freq, level, sampleRate).Read(samples)
	return samples
}

// DBFSToAmplitude converts a level in dBFS to a peak amplitude relative to full scale (0..1).
func DBFSToAmplitude(level float64) float64 { return math.Pow(10, level/20) }

// AmplitudeToDBFS converts a peak amplitude relative to full scale to dBFS. Silence is -inf;
// callers that print it should use ClampDBFS.
func AmplitudeToDBFS(amplitude float64) float64 { return 20 * math.Log10(amplitude) }

// ClampDBFS clamps a level in dBFS to at least -120, so that silence prints as a number
// (JSON cannot carry -inf).
func ClampDBFS(level float64) float64 {
	if math.IsInf(level, -1) || math.IsNaN(level) || level < -120 {
		return -120
	}
	return level
}

func clamp16(v float64) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	default:
		return int16(math.Round(v))
	}
}
