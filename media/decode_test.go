package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"testing"
	"time"
)

// wavOf writes a WAV file of any format: samples in [-1, 1] per channel (interleaved), encoded
// by put into width bytes each.
func wavOf(tag, channels, rate, bits int, samples []float64, put func([]byte, float64)) []byte {
	width := bits / 8
	data := make([]byte, len(samples)*width)
	for i, s := range samples {
		put(data[i*width:], s)
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(tag), uint16(channels), uint32(rate),
		uint32(rate * channels * width), uint16(channels * width), uint16(bits)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("LIST")
	binary.Write(&b, binary.LittleEndian, uint32(4))
	b.WriteString("INFO")
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// sine returns seconds of a tone at rate, the same on every channel, at half scale.
func sine(hz float64, rate, channels int, seconds float64) []float64 {
	n := int(seconds * float64(rate))
	out := make([]float64, 0, n*channels)
	for i := range n {
		v := 0.5 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
		for range channels {
			out = append(out, v)
		}
	}
	return out
}

func TestDecodeAudioFormats(t *testing.T) {
	pcm16 := func(b []byte, v float64) { binary.LittleEndian.PutUint16(b, uint16(int16(v*32767))) }
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"16-bit 8 kHz mono", wavOf(1, 1, 8000, 16, sine(1000, 8000, 1, 2), pcm16)},
		{"16-bit 44.1 kHz stereo", wavOf(1, 2, 44100, 16, sine(1000, 44100, 2, 2), pcm16)},
		{"8-bit 11025 Hz", wavOf(1, 1, 11025, 8, sine(1000, 11025, 1, 2), func(b []byte, v float64) { b[0] = byte(128 + v*127) })},
		{"24-bit 48 kHz", wavOf(1, 1, 48000, 24, sine(1000, 48000, 1, 2), func(b []byte, v float64) {
			x := int32(v * (1<<23 - 1))
			b[0], b[1], b[2] = byte(x), byte(x>>8), byte(x>>16)
		})},
		{"float 16 kHz", wavOf(3, 1, 16000, 32, sine(1000, 16000, 1, 2), func(b []byte, v float64) {
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
		})},
		{"u-law 8 kHz", wavOf(7, 1, 8000, 8, sine(1000, 8000, 1, 2), func(b []byte, v float64) {
			b[0] = PCMU.Encode(nil, []int16{int16(v * 32767)})[0]
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pcm, err := DecodeAudio(tc.data, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Duration(len(pcm)) * time.Second / SampleRate; d < 1990*time.Millisecond || d > 2*time.Second {
				t.Errorf("%v of sound, want 2 s", d)
			}
			if r := DetectTone(pcm, 1000, SampleRate); !r.Detected {
				t.Errorf("no 1000 Hz tone: %+v", r)
			}
			if lvl := Level(pcm); lvl < -8 || lvl > -4 {
				t.Errorf("level %.1f dBFS, want about -6", lvl)
			}
		})
	}
}

// Above the new Nyquist frequency nothing comes through: a 6 kHz tone at 44.1 kHz would alias
// to 2 kHz without the low-pass filter.
func TestDecodeAudioFiltersBeforeDownsampling(t *testing.T) {
	pcm16 := func(b []byte, v float64) { binary.LittleEndian.PutUint16(b, uint16(int16(v*32767))) }
	pcm, err := DecodeAudio(wavOf(1, 1, 44100, 16, sine(6000, 44100, 1, 1), pcm16), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if lvl := Level(pcm); lvl > -40 {
		t.Errorf("a 6 kHz tone came through at %.1f dBFS", lvl)
	}
}

func TestDecodeAudioMP3(t *testing.T) {
	data, err := os.ReadFile("testdata/tone-1000hz.mp3") // 2 s of 1000 Hz, 44.1 kHz mono at 32 kbit/s, by LAME
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := DecodeAudio(data, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(len(pcm)) * time.Second / SampleRate; d < 1900*time.Millisecond || d > 2200*time.Millisecond {
		t.Errorf("%v of sound, want about 2 s", d)
	}
	if r := DetectTone(pcm, 1000, SampleRate); !r.Detected {
		t.Errorf("no 1000 Hz tone: %+v", r)
	}
}

func TestDecodeAudioRefuses(t *testing.T) {
	pcm16 := func(b []byte, v float64) { binary.LittleEndian.PutUint16(b, uint16(int16(v*32767))) }
	long := wavOf(1, 1, 8000, 16, sine(1000, 8000, 1, 5), pcm16)
	if _, err := DecodeAudio(long, 3*time.Second); !errors.Is(err, ErrTooLong) {
		t.Errorf("5 s with at most 3 s: %v", err)
	}
	for name, data := range map[string][]byte{
		"text":        []byte("hello, this is not audio"),
		"empty":       nil,
		"html":        []byte("<html><body>RIFF</body></html>"),
		"no data":     wavOf(1, 1, 8000, 16, nil, pcm16)[:36],
		"12-bit":      wavOf(1, 1, 8000, 12, nil, pcm16),
		"9 channels":  wavOf(1, 9, 8000, 16, nil, pcm16),
		"bad mp3":     append([]byte("ID3"), bytes.Repeat([]byte{0xFF}, 64)...),
		"no samples":  wavOf(1, 1, 8000, 16, nil, pcm16),
		"riff header": []byte("RIFF\x00\x00\x00\x00WAVE"),
	} {
		if _, err := DecodeAudio(data, time.Minute); !errors.Is(err, ErrNotAudio) {
			t.Errorf("%s: %v, want ErrNotAudio", name, err)
		}
	}
}

// FuzzDecodeAudio: whatever is uploaded, decoding returns sound or an error, never panics, and
// never returns more than the limit allows.
func FuzzDecodeAudio(f *testing.F) {
	pcm16 := func(b []byte, v float64) { binary.LittleEndian.PutUint16(b, uint16(int16(v*32767))) }
	f.Add(wavOf(1, 2, 22050, 16, sine(440, 22050, 2, 0.1), pcm16))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"))
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, err := DecodeAudio(data, 2*time.Second)
		if err == nil && len(pcm) > 3*SampleRate {
			t.Fatalf("%d samples from a 2 s limit", len(pcm))
		}
	})
}
