//go:build integration

package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-pbx/switchboard/media"
)

// toneFile writes 30 s of a tone as a G.711 u-law WAV file (what SIPp's rtp_stream sends).
func toneFile(t *testing.T, hz float64) string {
	t.Helper()
	pcm := media.Tone(hz, -12, media.SampleRate, 30*media.SampleRate)
	ulaw := media.PCMU.Encode(nil, pcm)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("tone-%v.wav", hz))
	if err := os.WriteFile(path, wavULaw(ulaw), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileHasTone reads a voicemail message and reports whether it holds the tone.
func fileHasTone(path string, hz float64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	samples, format, err := media.ReadWAV(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if r := media.DetectTone(samples, hz, format.SampleRate); !r.Detected {
		return fmt.Errorf("%s: no %v Hz tone (%+v)", path, hz, r)
	}
	return nil
}

// readWAV reads a recording (16-bit mono PCM) and returns its samples and format.
func readWAV(t *testing.T, path string) ([]int16, media.WAVFormat) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, format, err := media.ReadWAV(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return samples, format
}

func filepathGlob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// wavULaw wraps G.711 u-law bytes in a WAV header (format 7, 8 kHz, 8-bit mono).
func wavULaw(data []byte) []byte {
	le32 := func(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	le16 := func(v int) []byte { return []byte{byte(v), byte(v >> 8)} }
	var b []byte
	b = append(b, "RIFF"...)
	b = append(b, le32(36+len(data))...)
	b = append(b, "WAVEfmt "...)
	b = append(b, le32(16)...)
	b = append(b, le16(7)...) // u-law
	b = append(b, le16(1)...)
	b = append(b, le32(media.SampleRate)...)
	b = append(b, le32(media.SampleRate)...)
	b = append(b, le16(1)...)
	b = append(b, le16(8)...)
	b = append(b, "data"...)
	b = append(b, le32(len(data))...)
	return append(b, data...)
}
