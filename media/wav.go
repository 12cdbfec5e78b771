package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
	var format WAVFormat
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return nil, format, fmt.Errorf("read wav header: %w", ErrNotWAV)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, format, ErrNotWAV
	}
	haveFormat := false
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if haveFormat {
				return nil, format, errors.New("read wav: no data chunk")
			}
			return nil, format, errors.New("read wav: no fmt chunk")
		}
		id, size := string(hdr[0:4]), binary.LittleEndian.Uint32(hdr[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, format, fmt.Errorf("read wav: bad fmt chunk size %d", size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, format, fmt.Errorf("read wav fmt chunk: %w", err)
			}
			tag := binary.LittleEndian.Uint16(b[0:2])
			if tag == wavFormatExtensible && size >= 40 {
				tag = binary.LittleEndian.Uint16(b[24:26]) // the sub-format GUID starts with the tag
			}
			format = WAVFormat{
				Channels:      int(binary.LittleEndian.Uint16(b[2:4])),
				SampleRate:    int(binary.LittleEndian.Uint32(b[4:8])),
				BitsPerSample: int(binary.LittleEndian.Uint16(b[14:16])),
			}
			if tag != wavFormatPCM {
				return nil, format, fmt.Errorf("read wav: format %#x is not linear PCM", tag)
			}
			if format.BitsPerSample != 16 || format.Channels != 1 || format.SampleRate <= 0 {
				return nil, format, fmt.Errorf("read wav: %s, want 16-bit mono PCM", format)
			}
			haveFormat = true
		case "data":
			if !haveFormat {
				return nil, format, errors.New("read wav: data chunk before fmt chunk")
			}
			// Read what is there rather than allocate what the header claims: a writer that
			// died before fixing the header, or a corrupt one, may claim gigabytes.
			src := r
			if size != 0 && size != 0xFFFFFFFF {
				src = io.LimitReader(r, int64(size))
			}
			data, err := io.ReadAll(src)
			if err != nil {
				return nil, format, fmt.Errorf("read wav data: %w", err)
			}
			samples := make([]int16, len(data)/2)
			for i := range samples {
				samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
			return samples, format, nil
		default:
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size%2)); err != nil {
				return nil, format, fmt.Errorf("read wav: skip %q chunk: %w", id, err)
			}
		}
	}
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
