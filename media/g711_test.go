package media_test

import (
	"math"
	"testing"

	"github.com/switchboard-pbx/switchboard/media"
)

func TestG711(t *testing.T) {
	for _, tc := range []struct {
		name string
		law  media.G711
		pt   uint8
	}{
		{"pcmu", media.PCMU, 0},
		{"pcma", media.PCMA, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			law, err := media.ParseG711(tc.name)
			if err != nil || law != tc.law || law.String() != tc.name || law.PayloadType() != tc.pt {
				t.Fatalf("ParseG711(%q) = %v, %v", tc.name, law, err)
			}
			tone := media.Tone(1000, -20, 8000, 8000)
			payload := law.Encode(nil, tone)
			if len(payload) != len(tone) {
				t.Fatalf("%d bytes for %d samples", len(payload), len(tone))
			}
			decoded := law.Decode(nil, payload)
			// Companding keeps the tone and its level; the quantisation noise is far below it.
			res := media.DetectTone(decoded, 1000, 8000)
			if !res.Detected || math.Abs(res.Level+20) > 0.5 {
				t.Errorf("after %s: %+v", tc.name, res)
			}
			var noise float64
			for i := range tone {
				d := float64(tone[i] - decoded[i])
				noise += d * d
			}
			if snr := media.Level(tone) - media.AmplitudeToDBFS(math.Sqrt(noise/float64(len(tone)))*math.Sqrt2/media.FullScale); snr < 30 {
				t.Errorf("SNR after %s: %.1f dB", tc.name, snr)
			}
		})
	}
	if _, err := media.ParseG711("opus"); err == nil {
		t.Error("ParseG711(opus) succeeded")
	}
}
