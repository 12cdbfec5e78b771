package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/switchboard-pbx/switchboard/media"
)

func TestWAVRoundTrip(t *testing.T) {
	samples := media.Tone(1000, -3, 8000, 8000)
	samples = append(samples, 32767, -32768, 0, 1, -1)

	t.Run("WriteWAV", func(t *testing.T) {
		var buf bytes.Buffer
		if err := media.WriteWAV(&buf, samples, 8000); err != nil {
			t.Fatal(err)
		}
		if buf.Len() != 44+2*len(samples) {
			t.Errorf("file size %d, want %d", buf.Len(), 44+2*len(samples))
		}
		got, format, err := media.ReadWAV(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if format != (media.WAVFormat{SampleRate: 8000, Channels: 1, BitsPerSample: 16}) {
			t.Errorf("format %v", format)
		}
		if !slices.Equal(got, samples) {
			t.Error("samples differ after the round trip")
		}
	})
	t.Run("WAVWriter", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "rec.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := media.NewWAVWriter(f, 8000)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(samples); i += 160 {
			if err := w.Write(samples[i:min(i+160, len(samples))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if riff := binary.LittleEndian.Uint32(b[4:8]); int(riff) != len(b)-8 {
			t.Errorf("RIFF size %d, file %d bytes", riff, len(b))
		}
		got, _, err := media.ReadWAV(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, samples) {
			t.Error("samples differ after the round trip")
		}
	})
}

// wavFile builds a WAV file chunk by chunk, for the odd files other programs write.
func wavFile(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

func chunk(id string, size uint32, data []byte) []byte {
	c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, size)...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func fmtChunk(tag, channels uint16, rate uint32, bits uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, tag)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(channels)*uint32(bits)/8)
	b = binary.LittleEndian.AppendUint16(b, channels*bits/8)
	b = binary.LittleEndian.AppendUint16(b, bits)
	return chunk("fmt ", uint32(len(b)), b)
}

func TestReadWAV(t *testing.T) {
	pcm := []byte{1, 0, 2, 0, 0xff, 0xff}
	want := []int16{1, 2, -1}
	for _, tc := range []struct {
		name    string
		file    []byte
		want    []int16
		wantErr bool
	}{
		{"Plain", wavFile(fmtChunk(1, 1, 8000, 16), chunk("data", 6, pcm)), want, false},
		// Chunks before and after the audio are skipped, odd-sized ones with their pad byte.
		{"ExtraChunks", wavFile(chunk("LIST", 3, []byte("abc")), fmtChunk(1, 1, 8000, 16), chunk("fact", 4, make([]byte, 4)), chunk("data", 6, pcm)), want, false},
		// Streaming writers leave the data size at 0 or 0xFFFFFFFF.
		{"UnknownDataSize", wavFile(fmtChunk(1, 1, 8000, 16), chunk("data", 0xFFFFFFFF, pcm)), want, false},
		// A recording cut short keeps what is there.
		{"Truncated", wavFile(fmtChunk(1, 1, 8000, 16), chunk("data", 600, pcm)), want, false},
		{"Stereo", wavFile(fmtChunk(1, 2, 8000, 16), chunk("data", 6, pcm)), nil, true},
		{"EightBit", wavFile(fmtChunk(1, 1, 8000, 8), chunk("data", 6, pcm)), nil, true},
		{"ALawInWAV", wavFile(fmtChunk(6, 1, 8000, 8), chunk("data", 6, pcm)), nil, true},
		{"NoData", wavFile(fmtChunk(1, 1, 8000, 16)), nil, true},
		{"DataBeforeFmt", wavFile(chunk("data", 6, pcm), fmtChunk(1, 1, 8000, 16)), nil, true},
		{"NotRIFF", []byte("ID3\x03 this is an mp3 file"), nil, true},
		{"Empty", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := media.ReadWAV(bytes.NewReader(tc.file))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("samples %v, want %v", got, tc.want)
			}
		})
	}
	if _, _, err := media.ReadWAV(bytes.NewReader([]byte("ID3\x03 this is an mp3 file"))); !errors.Is(err, media.ErrNotWAV) {
		t.Errorf("mp3: error %v, want ErrNotWAV", err)
	}
}

func FuzzReadWAV(f *testing.F) {
	var buf bytes.Buffer
	media.WriteWAV(&buf, media.Tone(1000, -20, 8000, 80), 8000)
	f.Add(buf.Bytes())
	f.Add(wavFile(chunk("LIST", 3, []byte("abc")), fmtChunk(1, 1, 8000, 16), chunk("data", 0, nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		samples, format, err := media.ReadWAV(bytes.NewReader(b))
		if err == nil && (format.Channels != 1 || format.BitsPerSample != 16 || len(samples) > len(b)/2) {
			t.Fatalf("accepted %v with %d samples from %d bytes", format, len(samples), len(b))
		}
	})
}
