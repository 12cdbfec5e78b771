package softphone

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Millis is a duration that JSON carries as milliseconds (a number with microsecond precision),
// the unit people read call setup times in.
type Millis time.Duration

// MarshalJSON writes the duration in milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, math.Round(float64(m)/1e3)/1e3, 'f', -1, 64), nil
}

// UnmarshalJSON reads a duration in milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	*m = Millis(ms * 1e6)
	return nil
}

// String prints the duration the way time.Duration does.
func (m Millis) String() string { return time.Duration(m).String() }

// Report is what one call did and measured. Call and Answer return one per call, answered or
// not; `softphone --json` prints it.
type Report struct {
	Direction string  `json:"direction"` // "outgoing" or "incoming"
	Peer      string  `json:"peer"`      // the extension dialled, or the caller
	CallID    string  `json:"call_id,omitempty"`
	Transport string  `json:"transport"`
	Outcome   Outcome `json:"outcome"`
	SIPStatus int     `json:"sip_status,omitempty"` // the final status (200 when answered)
	SIPReason string  `json:"sip_reason,omitempty"`
	Error     string  `json:"error,omitempty"` // one line for people when the call failed

	// Outgoing calls: from sending the first INVITE (before any digest challenge) to the first
	// provisional response, to the first 180/183, and to the 200 OK. Zero when not received.
	FirstProvisional Millis `json:"first_provisional_ms,omitempty"`
	Ringing          Millis `json:"ringing_ms,omitempty"`
	Setup            Millis `json:"setup_ms,omitempty"`

	Talk     Millis `json:"talk_ms"`            // answered to hung up
	EndedBy  string `json:"ended_by,omitempty"` // "local" or "remote"
	Codec    string `json:"codec,omitempty"`    // "pcmu" or "pcma"
	DTMFSent string `json:"dtmf_sent,omitempty"`

	RTP   RTPReport   `json:"rtp"`
	Audio AudioReport `json:"audio"`
	Tone  *ToneReport `json:"tone,omitempty"` // present when a tone was expected
	// Transfer is present when the phone transferred the call.
	Transfer *TransferReport `json:"transfer,omitempty"`

	ExitCode ExitCode `json:"exit_code"`
}

// RTPReport counts the RTP packets of a call. Loss and jitter are those of the received stream
// as RFC 3550 defines them.
type RTPReport struct {
	Sent        uint64  `json:"packets_sent"`     // audio and DTMF events
	Received    uint64  `json:"packets_received"` // audio packets (not DTMF events)
	Expected    uint64  `json:"packets_expected"`
	Lost        int64   `json:"packets_lost"`
	LossPercent float64 `json:"loss_percent"`
	Jitter      Millis  `json:"jitter_ms"`
}

// AudioReport describes the received audio: how much arrived and how much of it was sound
// rather than silence (an announcement, a voice, a tone).
type AudioReport struct {
	Received Millis  `json:"received_ms"`
	Active   Millis  `json:"active_ms"` // louder than -45 dBFS
	PeakDBFS float64 `json:"peak_dbfs"`
	MeanDBFS float64 `json:"mean_dbfs"`
}

// ToneReport says whether the expected tone was in the received audio.
type ToneReport struct {
	Hz        float64 `json:"hz"`
	Detected  bool    `json:"detected"`
	LevelDBFS float64 `json:"level_dbfs"`  // mean level where present; -120 when absent
	Duration  Millis  `json:"duration_ms"` // total time the tone was heard
	// LongestRun is the longest time the tone was heard without a break: close to the talk
	// time when audio never stopped.
	LongestRun Millis `json:"longest_run_ms"`
}

// Answered reports whether the call was answered.
func (r *Report) Answered() bool { return r.Outcome == OutcomeAnswered }

// exitCode decides the report's exit code: the outcome's, or ExitToneMissing for an answered
// call in which the expected tone was not heard.
func (r *Report) exitCode() ExitCode {
	if code := r.Outcome.ExitCode(); code != ExitOK {
		return code
	}
	if r.Tone != nil && !r.Tone.Detected {
		return ExitToneMissing
	}
	return ExitOK
}

// setExitCode completes an answered call's report: a media error (a recording that could not
// be written, say) makes an otherwise successful call a local failure.
func (r *Report) setExitCode(err error) {
	r.ExitCode = r.exitCode()
	if err != nil {
		r.Error = err.Error()
		if r.ExitCode == ExitOK {
			r.ExitCode = ExitFailure
		}
	}
}
