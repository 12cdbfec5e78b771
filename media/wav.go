package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// The WAV files this package reads and writes: RIFF/WAVE with one "fmt " chunk of linear PCM
// (format 1, or WAVE_FORMAT_EXTENSIBLE carrying PCM) and one "data" chunk, little-endian.
const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
	wavHeaderSize       = 44
)

// WAVFormat describes the audio in a WAV file.
type WAVFormat struct {
	SampleRate    int
	Channels      int
	BitsPerSample int
}

// String returns e.g. "8000 Hz 16-bit mono".
func (f WAVFormat) String() string {
	ch := fmt.Sprintf("%d channels", f.Channels)
	switch f.Channels {
	case 1:
		ch = "mono"
	case 2:
		ch = "stereo"
	}
	return fmt.Sprintf("%d Hz %d-bit %s", f.SampleRate, f.BitsPerSample, ch)
}

// ErrNotWAV is returned for input that is not a RIFF/WAVE file.
var ErrNotWAV = errors.New("not a WAV file")

// ReadWAV reads a whole WAV file of 16-bit mono linear PCM and returns its samples and format.
// Chunks other than "fmt " and "data" (LIST, fact, …) are skipped; a data chunk whose size is
// unknown (0 or 0xFFFFFFFF, as streaming writers leave it) runs to the end of the input.
func ReadWAV(r io.Reader) ([]int16, WAVFormat, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, WAVFormat{}, fmt.Errorf("read wav: %w", err)
	}
	l, err := parseWAV(b, int64(len(b)))
	if err != nil {
		return nil, l.Format, err
	}
	if l.Tag != wavFormatPCM {
		return nil, l.Format, fmt.Errorf("read wav: format %#x is not linear PCM", l.Tag)
	}
	if l.Format.BitsPerSample != 16 || l.Format.Channels != 1 || l.Format.SampleRate <= 0 {
		return nil, l.Format, fmt.Errorf("read wav: %s, want 16-bit mono PCM", l.Format)
	}
	data := b[l.DataOffset : l.DataOffset+l.DataSize]
	samples := make([]int16, len(data)/2)
	for i := range samples {
		samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return samples, l.Format, nil
}

// WAVLayout is where a WAV file keeps what: its format (Tag is the format code: 1 for PCM, the
// sub-format of WAVE_FORMAT_EXTENSIBLE) and the offset and length of its audio.
type WAVLayout struct {
	Tag        int
	Format     WAVFormat
	ByteRate   int
	DataOffset int64
	DataSize   int64
}

// Duration is how long the audio plays.
func (l WAVLayout) Duration() time.Duration {
	if l.ByteRate <= 0 {
		return 0
	}
	return time.Duration(l.DataSize) * time.Second / time.Duration(l.ByteRate)
}

// ReadWAVLayout reads the layout of a WAV file of size bytes from its start, without reading
// its audio: the chunks before the audio must lie within the first 64 KiB.
func ReadWAVLayout(r io.Reader, size int64) (WAVLayout, error) {
	head := make([]byte, min(size, 64<<10))
	if _, err := io.ReadFull(r, head); err != nil {
		return WAVLayout{}, fmt.Errorf("read wav header: %w", err)
	}
	return parseWAV(head, size)
}

// parseWAV walks the chunks of a WAV file whose first bytes are head and whose length is size.
// A data chunk whose size is unknown (0 or 0xFFFFFFFF), or larger than what the file holds
// (a recording cut short, a corrupt header), runs to the end of the file.
func parseWAV(head []byte, size int64) (WAVLayout, error) {
	var l WAVLayout
	if len(head) < 12 || string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return l, ErrNotWAV
	}
	haveFormat := false
	for off := int64(12); off+8 <= int64(len(head)); {
		id, n := string(head[off:off+4]), int64(binary.LittleEndian.Uint32(head[off+4:off+8]))
		off += 8
		switch id {
		case "fmt ":
			if n < 16 || n > 1024 || off+n > int64(len(head)) {
				return l, fmt.Errorf("read wav: bad fmt chunk size %d", n)
			}
			b := head[off : off+n]
			l.Tag = int(binary.LittleEndian.Uint16(b[0:2]))
			if l.Tag == wavFormatExtensible && n >= 26 {
				l.Tag = int(binary.LittleEndian.Uint16(b[24:26])) // the sub-format GUID starts with the tag
			}
			l.Format = WAVFormat{
				Channels:      int(binary.LittleEndian.Uint16(b[2:4])),
				SampleRate:    int(binary.LittleEndian.Uint32(b[4:8])),
				BitsPerSample: int(binary.LittleEndian.Uint16(b[14:16])),
			}
			l.ByteRate = int(binary.LittleEndian.Uint32(b[8:12]))
			haveFormat = true
		case "data":
			if !haveFormat {
				return l, errors.New("read wav: data chunk before fmt chunk")
			}
			l.DataOffset, l.DataSize = off, n
			if n == 0 || n == 0xFFFFFFFF || n > size-off {
				l.DataSize = size - off
			}
			return l, nil
		}
		off += n + n%2
	}
	if haveFormat {
		return l, errors.New("read wav: no data chunk")
	}
	return l, errors.New("read wav: no fmt chunk")
}

func wavHeader(sampleRate int, dataBytes uint32) []byte {
	h := make([]byte, wavHeaderSize)
	copy(h[0:4], "RIFF")
	binary.LittleEndian.PutUint32(h[4:8], 36+dataBytes)
	copy(h[8:12], "WAVE")
	copy(h[12:16], "fmt ")
	binary.LittleEndian.PutUint32(h[16:20], 16)
	binary.LittleEndian.PutUint16(h[20:22], wavFormatPCM)
	binary.LittleEndian.PutUint16(h[22:24], 1)
	binary.LittleEndian.PutUint32(h[24:28], uint32(sampleRate))
	binary.LittleEndian.PutUint32(h[28:32], uint32(sampleRate)*2)
	binary.LittleEndian.PutUint16(h[32:34], 2)
	binary.LittleEndian.PutUint16(h[34:36], 16)
	copy(h[36:40], "data")
	binary.LittleEndian.PutUint32(h[40:44], dataBytes)
	return h
}

func appendSamples(b []byte, samples []int16) []byte {
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// WriteWAV writes samples as a complete 16-bit mono WAV file.
func WriteWAV(w io.Writer, samples []int16, sampleRate int) error {
	b := wavHeader(sampleRate, uint32(2*len(samples)))
	if _, err := w.Write(appendSamples(b, samples)); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}

// WAVWriter writes a 16-bit mono WAV file as audio arrives and fixes the sizes in its header on
// Close, so a recording of unknown length needs no buffering.
type WAVWriter struct {
	w          io.WriteSeeker
	sampleRate int
	dataBytes  int64
	buf        []byte
	err        error
}

// NewWAVWriter writes a WAV header to w and returns a writer for the samples that follow.
func NewWAVWriter(w io.WriteSeeker, sampleRate int) (*WAVWriter, error) {
	if _, err := w.Write(wavHeader(sampleRate, 0)); err != nil {
		return nil, fmt.Errorf("write wav header: %w", err)
	}
	return &WAVWriter{w: w, sampleRate: sampleRate}, nil
}

// Write appends samples. After the first error every call returns it.
func (w *WAVWriter) Write(samples []int16) error {
	if w.err != nil {
		return w.err
	}
	if w.dataBytes+int64(2*len(samples)) > 0xFFFFFFFF-36 {
		w.err = errors.New("write wav: file would exceed 4 GiB")
		return w.err
	}
	w.buf = appendSamples(w.buf[:0], samples)
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("write wav: %w", err)
		return w.err
	}
	w.dataBytes += int64(len(w.buf))
	return nil
}

// Close fixes the header sizes. It does not close the underlying file.
func (w *WAVWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("finish wav: %w", err)
	}
	if _, err := w.w.Write(wavHeader(w.sampleRate, uint32(w.dataBytes))); err != nil {
		return fmt.Errorf("finish wav: %w", err)
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("finish wav: %w", err)
	}
	return nil
}
