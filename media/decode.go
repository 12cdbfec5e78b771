package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/hajimehoshi/go-mp3"
)

// ErrNotAudio is returned by DecodeAudio for input it cannot read as sound.
var ErrNotAudio = errors.New("not a WAV or MP3 file")

// ErrTooLong is returned by DecodeAudio for sound longer than it was allowed.
var ErrTooLong = errors.New("audio too long")

// DecodeAudio reads a WAV file (linear PCM of 8 to 32 bits, float, A-law or u-law, any rate,
// any number of channels) or an MP3 file (MPEG-1: 32, 44.1 or 48 kHz) and returns its sound as Asterisk plays it: 8 kHz
// 16-bit mono, channels mixed down, resampled with a low-pass filter. Sound longer than max
// is ErrTooLong, found without decoding more than max of it.
func DecodeAudio(data []byte, max time.Duration) ([]int16, error) {
	var mono []float64
	var rate int
	var err error
	switch {
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		mono, rate, err = decodeWAV(data, max)
	case isMP3(data):
		mono, rate, err = decodeMP3(data, max)
	default:
		return nil, ErrNotAudio
	}
	if err != nil {
		return nil, err
	}
	if len(mono) == 0 {
		return nil, fmt.Errorf("%w: no samples", ErrNotAudio)
	}
	out := resample(mono, rate, SampleRate)
	pcm := make([]int16, len(out))
	for i, v := range out {
		pcm[i] = int16(math.Round(math.Max(-32768, math.Min(32767, v*32768))))
	}
	return pcm, nil
}

// isMP3 recognises an ID3 tag or an MPEG audio frame header at the start.
func isMP3(b []byte) bool {
	return len(b) >= 3 && (string(b[0:3]) == "ID3" || (b[0] == 0xFF && b[1]&0xE0 == 0xE0))
}

// maxSamples is how many samples of one channel max allows at rate, plus one second.
func maxSamples(max time.Duration, rate int) int {
	return int((max + time.Second).Seconds() * float64(rate))
}

// decodeWAV returns the samples of a WAV file mixed to mono, in [-1, 1), and their rate.
func decodeWAV(data []byte, max time.Duration) ([]float64, int, error) {
	l, err := parseWAV(data, int64(len(data)))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNotAudio, err)
	}
	channels, rate := l.Format.Channels, l.Format.SampleRate
	if channels < 1 || channels > 8 || rate < 4000 || rate > 192000 {
		return nil, 0, fmt.Errorf("%w: %d channels at %d Hz", ErrNotAudio, channels, rate)
	}
	sample, width, err := sampleReader(l.Tag, l.Format.BitsPerSample)
	if err != nil {
		return nil, 0, err
	}
	body := data[l.DataOffset : l.DataOffset+l.DataSize]
	frames := len(body) / (width * channels)
	if frames > maxSamples(max, rate) {
		return nil, 0, ErrTooLong
	}
	mono := make([]float64, frames)
	for i := range mono {
		var sum float64
		for c := range channels {
			sum += sample(body[(i*channels+c)*width:])
		}
		mono[i] = sum / float64(channels)
	}
	return mono, rate, nil
}

// sampleReader returns how to read one sample of a WAV format, and its width in bytes.
func sampleReader(tag, bits int) (func([]byte) float64, int, error) {
	switch {
	case tag == wavFormatPCM && bits == 8:
		return func(b []byte) float64 { return (float64(b[0]) - 128) / 128 }, 1, nil
	case tag == wavFormatPCM && bits == 16:
		return func(b []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(b))) / 32768 }, 2, nil
	case tag == wavFormatPCM && bits == 24:
		return func(b []byte) float64 {
			return float64(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24)>>8) / (1 << 23)
		}, 3, nil
	case tag == wavFormatPCM && bits == 32:
		return func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31) }, 4, nil
	case tag == 3 && bits == 32: // IEEE float
		return func(b []byte) float64 { return clip(float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))) }, 4, nil
	case tag == 3 && bits == 64:
		return func(b []byte) float64 { return clip(math.Float64frombits(binary.LittleEndian.Uint64(b))) }, 8, nil
	case (tag == 6 || tag == 7) && bits == 8: // A-law, u-law
		codec := PCMA
		if tag == 7 {
			codec = PCMU
		}
		return func(b []byte) float64 { return float64(codec.Decode(nil, b[:1])[0]) / 32768 }, 1, nil
	}
	return nil, 0, fmt.Errorf("%w: WAV format %#x with %d-bit samples is not supported", ErrNotAudio, tag, bits)
}

func clip(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(-1, math.Min(1, v))
}

// decodeMP3 returns the samples of an MP3 file mixed to mono and their rate.
func decodeMP3(data []byte, max time.Duration) (mono []float64, rate int, err error) {
	defer func() {
		// go-mp3 indexes corrupt frames without checking them; a file that makes it panic is
		// not audio.
		if recover() != nil {
			mono, rate, err = nil, 0, fmt.Errorf("%w: corrupt MP3", ErrNotAudio)
		}
	}()
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNotAudio, err)
	}
	rate = d.SampleRate()
	if rate < 32000 {
		// MPEG-2 and 2.5 (16-24 kHz and below): go-mp3 decodes them to noise.
		return nil, 0, fmt.Errorf("%w: MP3 at %d Hz (MPEG-2) is not supported; use 32, 44.1 or 48 kHz, or WAV", ErrNotAudio, rate)
	}
	limit := maxSamples(max, rate)
	buf := make([]byte, 4096) // 16-bit little-endian stereo frames
	for {
		n, rerr := io.ReadFull(d, buf)
		for i := 0; i+4 <= n; i += 4 {
			l := float64(int16(binary.LittleEndian.Uint16(buf[i:])))
			r := float64(int16(binary.LittleEndian.Uint16(buf[i+2:])))
			mono = append(mono, (l+r)/65536)
		}
		if len(mono) > limit {
			return nil, 0, ErrTooLong
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return mono, rate, nil
		}
		if rerr != nil {
			return nil, 0, fmt.Errorf("%w: %v", ErrNotAudio, rerr)
		}
	}
}

// resample converts x from one rate to another: a windowed-sinc low-pass below the new
// Nyquist frequency when the rate goes down, then linear interpolation.
func resample(x []float64, from, to int) []float64 {
	if from == to {
		return x
	}
	if from > to {
		x = lowPass(x, 0.45*float64(to)/float64(from))
	}
	n := int(int64(len(x)) * int64(to) / int64(from))
	out := make([]float64, n)
	step := float64(from) / float64(to)
	for i := range out {
		pos := float64(i) * step
		j := int(pos)
		a, b := x[j], x[j]
		if j+1 < len(x) {
			b = x[j+1]
		}
		out[i] = a + (b-a)*(pos-float64(j))
	}
	return out
}

// lowPass filters x with a 63-tap Hamming-windowed sinc whose cutoff is fc cycles per sample.
func lowPass(x []float64, fc float64) []float64 {
	const taps = 63
	h := make([]float64, taps)
	var sum float64
	for i := range h {
		k := float64(i - taps/2)
		v := 2 * fc
		if k != 0 {
			v = math.Sin(2*math.Pi*fc*k) / (math.Pi * k)
		}
		h[i] = v * (0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/(taps-1)))
		sum += h[i]
	}
	out := make([]float64, len(x))
	for i := range x {
		var acc float64
		for t, c := range h {
			if j := i + t - taps/2; j >= 0 && j < len(x) {
				acc += c * x[j]
			}
		}
		out[i] = acc / sum
	}
	return out
}
