package media_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/media"
)

// noisyTone returns seconds of a freq-hertz sine at level dBFS plus white Gaussian noise whose RMS
// equals that of a sine at noise dBFS. A fixed seed keeps every run identical.
func noisyTone(freq, level, noise float64, d time.Duration) []int16 {
	n := int(d * media.SampleRate / time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	sigma := media.FullScale * media.DBFSToAmplitude(noise) / math.Sqrt2
	tone := media.Tone(freq, level, media.SampleRate, n)
	out := make([]int16, n)
	for i := range out {
		v := float64(tone[i])
		if freq == 0 {
			v = 0
		}
		if !math.IsInf(noise, -1) {
			v += rng.NormFloat64() * sigma
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

func TestToneDetector(t *testing.T) {
	silent := math.Inf(-1)
	for _, tc := range []struct {
		name         string
		freq, level  float64 // what is in the audio (freq 0: no tone)
		noise        float64 // white noise level, dBFS
		length       time.Duration
		lookFor      float64
		wantDetected bool
	}{
		{"1000HzAtMinus20InNoise", 1000, -20, -30, time.Second, 1000, true},
		{"1000HzAtMinus20InEqualNoise", 1000, -20, -23, time.Second, 1000, true},
		{"1000HzClean", 1000, -20, silent, time.Second, 1000, true},
		{"2000HzAtMinus20InNoise", 2000, -20, -30, time.Second, 2000, true},
		{"LoudTone", 1000, -1, -40, time.Second, 1000, true},
		// 100 Hz off: the Hann window keeps it out of the 1000 Hz measurement.
		{"Rejects1100HzInNoise", 1100, -20, -30, time.Second, 1000, false},
		{"Rejects1100HzClean", 1100, -20, silent, time.Second, 1000, false},
		{"Rejects1000HzWhenLookingFor2000", 1000, -20, -30, time.Second, 2000, false},
		{"RejectsNoiseOnly", 0, 0, -20, time.Second, 1000, false},
		{"RejectsSilence", 0, 0, silent, time.Second, 1000, false},
		// Below MinLevel (-50 dBFS): G.711 idle noise territory.
		{"RejectsTooQuiet", 1000, -60, silent, time.Second, 1000, false},
		// Buried: the noise carries far more power than the tone.
		{"RejectsBuriedTone", 1000, -30, -15, time.Second, 1000, false},
		// Shorter than MinDuration (250 ms): a blip, not a tone.
		{"RejectsBlip", 1000, -20, silent, 150 * time.Millisecond, 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := media.DetectTone(noisyTone(tc.freq, tc.level, tc.noise, tc.length), tc.lookFor, media.SampleRate)
			if got.Detected != tc.wantDetected {
				t.Fatalf("detected %v, want %v (%+v)", got.Detected, tc.wantDetected, got)
			}
			if got.Detected && math.Abs(got.Level-tc.level) > 1 {
				t.Errorf("level %.1f dBFS, want %.1f ± 1", got.Level, tc.level)
			}
			if tc.freq != tc.lookFor && got.Duration > 0 {
				t.Errorf("%v Hz seen for %v in audio of %v Hz", tc.lookFor, got.Duration, tc.freq)
			}
		})
	}
}

func TestToneDetectorStreaming(t *testing.T) {
	// Frames of 160 samples (one RTP packet) give the same answer as one large write.
	audio := append(noisyTone(0, 0, -40, 2*time.Second), noisyTone(1000, -20, -30, time.Second)...)
	d := media.NewToneDetector(1000, media.SampleRate)
	for i := 0; i < len(audio); i += 160 {
		d.Write(audio[i:min(i+160, len(audio))])
	}
	whole := media.DetectTone(audio, 1000, media.SampleRate)
	if got := d.Result(); got != whole {
		t.Errorf("streamed %+v, whole %+v", got, whole)
	}
	if !whole.Detected || whole.Duration < 900*time.Millisecond || whole.Duration > 1100*time.Millisecond {
		t.Errorf("want about 1 s of tone, got %+v", whole)
	}
}

func TestToneAmplitude(t *testing.T) {
	for _, level := range []float64{0, -6, -20, -40} {
		got := media.AmplitudeToDBFS(media.ToneAmplitude(media.Tone(1000, level, 8000, 400), 1000, 8000))
		if math.Abs(got-level) > 0.2 {
			t.Errorf("tone at %v dBFS measured %.2f", level, got)
		}
	}
}

func TestLevel(t *testing.T) {
	if got := media.Level(media.Tone(440, -20, 8000, 8000)); math.Abs(got+20) > 0.1 {
		t.Errorf("level of a -20 dBFS sine: %.2f", got)
	}
	if got := media.Level(make([]int16, 160)); !math.IsInf(got, -1) {
		t.Errorf("level of silence: %v", got)
	}
	var m media.LevelMeter
	for range 50 {
		m.Write(make([]int16, 160))
	}
	for range 25 {
		m.Write(media.Tone(440, -10, 8000, 160))
	}
	s := m.Summary()
	if s.Duration != 1500*time.Millisecond || s.Active != 500*time.Millisecond {
		t.Errorf("durations %+v, want 1.5 s measured, 0.5 s active", s)
	}
	if math.Abs(s.Peak+10) > 0.5 {
		t.Errorf("peak %.1f, want -10", s.Peak)
	}
}
