package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	diagomedia "github.com/emiago/diago/media"

	"github.com/switchboard-pbx/switchboard/media"
)

// MediaOptions say what a call sends and what it checks in what it receives. Call and Answer
// share them.
type MediaOptions struct {
	// Tone, when not zero, sends a sine of this frequency (hertz) for the whole call.
	Tone float64
	// ToneLevel is the level of Tone in dBFS; zero means -12 dBFS.
	ToneLevel float64
	// Play, when Tone is zero, is 8 kHz 16-bit PCM sent once from the answer on (read it with
	// media.ReadWAV). Silence is sent when both are empty, so the PBX always gets RTP.
	Play []int16
	// Record, when set, is a file the received audio is written to as an 8 kHz 16-bit mono
	// WAV file. Answer numbers the files of later calls: rec.wav, rec-2.wav, rec-3.wav…
	Record string
	// ExpectTone, when not zero, looks for a tone of this frequency in the received audio and
	// reports whether it was there (Report.Tone).
	ExpectTone float64
	// HangupOnTone ends the call as soon as ExpectTone has been heard.
	HangupOnTone bool
	// Duration ends the call this long after the answer; zero waits for the other side to
	// hang up (or for the context to end).
	Duration time.Duration
	// DTMF digits (0-9, *, #, A-D) are sent as RFC 4733 events after the answer; a comma
	// or "w" pauses 500 ms, "W" pauses 1 s.
	DTMF string
	// DTMFDelay is the wait between the answer and the first digit; zero means 500 ms.
	DTMFDelay time.Duration
	// Transfer, when set, transfers the call during the talk; the call ends when the transfer
	// is done (Report.Transfer says how it went).
	Transfer *Transfer
}

// validate checks what can be checked before a call.
func (o *MediaOptions) validate() error {
	if o.Tone < 0 || o.Tone >= media.SampleRate/2 {
		return fmt.Errorf("tone %v Hz out of range (0-4000)", o.Tone)
	}
	if o.ExpectTone < 0 || o.ExpectTone >= media.SampleRate/2 {
		return fmt.Errorf("expected tone %v Hz out of range (0-4000)", o.ExpectTone)
	}
	if o.ToneLevel > 0 {
		return fmt.Errorf("tone level %v dBFS above full scale", o.ToneLevel)
	}
	if o.HangupOnTone && o.ExpectTone == 0 {
		return errors.New("hang up on tone needs an expected tone")
	}
	for _, r := range o.DTMF {
		if !strings.ContainsRune("0123456789*#ABCDabcd,wW", r) {
			return fmt.Errorf("bad DTMF digit %q (want 0-9, *, #, A-D, comma or w)", r)
		}
	}
	return nil
}

// frameSamples is one 20 ms RTP packet of 8 kHz audio.
const frameSamples = 160

// session runs the media of one answered call: it sends audio (and DTMF) and analyses what it
// receives, until the call ends. start, then wait; hang up and close the media; then finish.
type session struct {
	p      *Phone
	opts   MediaOptions
	med    *diago.DialogMedia
	rep    *Report
	record string // the file to record to, if any

	law     media.G711
	stats   media.RTPStats
	meter   media.LevelMeter
	tone    *media.ToneDetector
	toneNow chan struct{} // closed when the expected tone has been heard
	rec     *recorder

	stop     chan struct{} // closed to stop the senders
	senders  sync.WaitGroup
	sendErr  error
	dtmfErr  error
	received chan error // the receiver's end
}

// start begins sending and receiving.
func (s *session) start() error {
	var props diago.MediaProps
	if _, err := s.med.AudioWriter(diago.WithAudioWriterMediaProps(&props)); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	switch props.Codec.PayloadType {
	case 0:
		s.law = media.PCMU
	case 8:
		s.law = media.PCMA
	default:
		return fmt.Errorf("media: codec %s negotiated, want pcmu or pcma", props.Codec.Name)
	}
	s.rep.Codec = s.law.String()
	s.toneNow = make(chan struct{})
	if s.opts.ExpectTone > 0 {
		s.tone = media.NewToneDetector(s.opts.ExpectTone, media.SampleRate)
	}
	reader, err := s.med.AudioReader()
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	var writer io.Writer
	dtmf, err := s.med.AudioWriterDTMF()
	switch {
	case err == nil:
		writer = dtmf
	case s.opts.DTMF != "":
		return fmt.Errorf("dtmf: %w", err)
	default:
		if writer, err = s.med.AudioWriter(); err != nil {
			return fmt.Errorf("media: %w", err)
		}
	}
	if s.record != "" {
		if s.rec, err = newRecorder(s.record); err != nil {
			return err
		}
	}

	s.stop = make(chan struct{})
	s.senders.Add(1)
	go func() {
		defer s.senders.Done()
		s.sendErr = s.send(writer, s.stop)
	}()
	if s.opts.DTMF != "" {
		s.senders.Add(1)
		go func() {
			defer s.senders.Done()
			s.dtmfErr = s.sendDTMF(dtmf, s.stop)
		}()
	}
	s.received = make(chan error, 1)
	go func() { s.received <- s.receive(reader) }()
	return nil
}

// wait blocks until the other side hangs up (remote ends), ctx ends, opts.Duration passes or
// the expected tone is heard, then stops sending. It reports whether the other side ended the
// call.
func (s *session) wait(ctx context.Context, remote <-chan struct{}) (remoteEnded bool) {
	var deadline <-chan time.Time
	if s.opts.Duration > 0 {
		t := time.NewTimer(s.opts.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var toneHeard <-chan struct{}
	if s.opts.HangupOnTone {
		toneHeard = s.toneNow
	}
	select {
	case <-remote:
		remoteEnded = true
	case <-ctx.Done():
	case <-deadline:
	case <-toneHeard:
	}
	close(s.stop)
	s.senders.Wait()
	return remoteEnded
}

// finish runs once the media is closed: it waits for the receiver to see the end of its
// stream and fills in the report. Stream errors caused by the hang-up are not errors.
func (s *session) finish() error {
	recvErr := <-s.received
	var recErr error
	if s.rec != nil {
		recErr = s.rec.close()
	}
	if s.tone != nil {
		res := s.tone.Result()
		s.rep.Tone = &ToneReport{Hz: res.Freq, Detected: res.Detected, LevelDBFS: round1(res.Level),
			Duration: Millis(res.Duration), LongestRun: Millis(res.LongestRun)}
	}
	sum := s.stats.Summary()
	s.rep.RTP.Received, s.rep.RTP.Expected, s.rep.RTP.Lost = sum.Received, sum.Expected, sum.Lost
	s.rep.RTP.LossPercent, s.rep.RTP.Jitter = math.Round(sum.Loss*100)/100, Millis(sum.Jitter)
	if rtp := s.med.RTPSession(); rtp != nil {
		s.rep.RTP.Sent = rtp.WriteStats().PacketsCount
	}
	lvl := s.meter.Summary()
	s.rep.Audio = AudioReport{Received: Millis(lvl.Duration), Active: Millis(lvl.Active), PeakDBFS: round1(lvl.Peak), MeanDBFS: round1(lvl.Mean)}
	return errors.Join(recErr, ignoreClosed(s.sendErr), ignoreClosed(s.dtmfErr), ignoreClosed(recvErr))
}

// round1 rounds a level to 0.1 dB, the precision that means something on a phone line.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "use of closed network connection") {
		return nil
	}
	return err
}

// send writes one 20 ms frame after another (the RTP writer paces them) until stop is closed.
func (s *session) send(w io.Writer, stop <-chan struct{}) error {
	frame := make([]int16, frameSamples)
	payload := make([]byte, 0, frameSamples)
	var gen *media.ToneGenerator
	if s.opts.Tone > 0 {
		level := s.opts.ToneLevel
		if level == 0 {
			level = -12
		}
		gen = media.NewToneGenerator(s.opts.Tone, level, media.SampleRate)
	}
	play := s.opts.Play
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		switch {
		case gen != nil:
			gen.Read(frame)
		case len(play) > 0:
			n := copy(frame, play)
			clear(frame[n:])
			play = play[n:]
		default:
			clear(frame)
		}
		if _, err := w.Write(s.law.Encode(payload[:0], frame)); err != nil {
			return fmt.Errorf("send audio: %w", err)
		}
	}
}

// sendDTMF sends the digits as RFC 4733 events. Digits are 150 ms apart so that audio frames
// advance the RTP timestamp between them: a receiver takes two events with one timestamp for one.
func (s *session) sendDTMF(w *diago.DTMFWriter, stop <-chan struct{}) error {
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-stop:
			return false
		case <-t.C:
			return true
		}
	}
	delay := s.opts.DTMFDelay
	if delay == 0 {
		delay = 500 * time.Millisecond
	}
	if !wait(delay) {
		return nil
	}
	sent := ""
	defer func() {
		if sent != "" {
			s.rep.DTMFSent = sent
			s.p.emit(Event{Kind: EventDTMF, CallID: s.rep.CallID, Peer: s.rep.Peer, Detail: "sent " + sent})
		}
	}()
	for _, r := range s.opts.DTMF {
		pause := 150 * time.Millisecond
		switch r {
		case ',', 'w':
			pause = 500 * time.Millisecond
		case 'W':
			pause = time.Second
		default:
			if err := w.WriteDTMF(toUpper(r)); err != nil {
				return fmt.Errorf("send dtmf %c: %w", r, err)
			}
			sent += string(r)
		}
		if !wait(pause) {
			return nil
		}
	}
	return nil
}

func toUpper(r rune) rune {
	if r >= 'a' && r <= 'd' {
		return r - 'a' + 'A'
	}
	return r
}

// receive reads RTP until the media is closed and feeds the audio to the statistics, the meters
// and the recorder.
func (s *session) receive(r io.Reader) error {
	buf := make([]byte, diagomedia.RTPBufSize)
	pcm := make([]int16, 0, frameSamples)
	heard := false
	for {
		n, err := r.Read(buf)
		if err != nil {
			return err
		}
		hdr := s.med.RTPPacketReader.PacketHeader
		if n == 0 || hdr.PayloadType != s.law.PayloadType() {
			continue // DTMF events, comfort noise, keep-alives
		}
		s.stats.Update(hdr.SSRC, hdr.SequenceNumber, hdr.Timestamp, time.Now())
		pcm = s.law.Decode(pcm[:0], buf[:n])
		s.meter.Write(pcm)
		if s.rec != nil {
			s.rec.write(pcm)
		}
		if s.tone != nil {
			s.tone.Write(pcm)
			if !heard && s.tone.Detected() {
				heard = true
				close(s.toneNow)
				s.p.emit(Event{Kind: EventToneHeard, CallID: s.rep.CallID, Peer: s.rep.Peer, Detail: fmt.Sprintf("%g Hz", s.opts.ExpectTone)})
			}
		}
	}
}

// recorder writes received audio to a WAV file.
type recorder struct {
	f   *os.File
	w   *media.WAVWriter
	err error
}

func newRecorder(path string) (*recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	w, err := media.NewWAVWriter(f, media.SampleRate)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record %s: %w", path, err)
	}
	return &recorder{f: f, w: w}, nil
}

func (r *recorder) write(pcm []int16) {
	if r.err == nil {
		r.err = r.w.Write(pcm)
	}
}

func (r *recorder) close() error {
	err := errors.Join(r.err, r.w.Close(), r.f.Close())
	if err != nil {
		return fmt.Errorf("record %s: %w", r.f.Name(), err)
	}
	return nil
}
