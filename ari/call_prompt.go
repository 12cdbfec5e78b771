package ari

import (
	"context"
	"fmt"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
)

// Prompts: what a caller hears from call control itself (a room's PIN prompt, "you are muted")
// and the digits they press meanwhile.

// How long a caller has to press keys: for the first one once the prompt has ended, and
// between two of them.
const (
	firstDigitWait = 8 * time.Second
	nextDigitWait  = 4 * time.Second
	// promptLimit bounds a prompt whose end never comes (a lost event).
	promptLimit = 30 * time.Second
)

// heard says how a prompt ended.
type heard int

const (
	heardAll    heard = iota // it played to the end (or was cut short by a key)
	heardLeft                // the caller hung up
	heardHangup              // an admin asked for the call to end
	heardStop                // the call is being stopped
)

// playbackID returns a new ID for a playback of the call.
func (c *call) playbackID() string {
	c.playbacks++
	return fmt.Sprintf("%s-pb%d", c.id, c.playbacks)
}

// say plays media to the caller and waits for its end. Events other than the playback's and
// the caller's leaving are given to other, when not nil (a participant pressing keys while told
// something), or dropped.
func (c *call) say(ctx context.Context, other func(v5.Event), media ...string) heard {
	id := c.playbackID()
	if err := c.app.Asterisk.Play(c.op(), c.callerCh, id, media...); err != nil {
		c.log.Warn("play prompt", "media", media, "error", err)
		return heardAll
	}
	limit := time.NewTimer(promptLimit)
	defer limit.Stop()
	started := time.Now()
	defer func() { c.log.Debug("prompt over", "playback", id, "media", media, "took", time.Since(started)) }()
	for {
		e, why := c.wait(ctx, limit.C)
		switch why {
		case wakeStop:
			return heardStop
		case wakeHangup:
			return heardHangup
		case wakeTimer:
			return heardAll
		}
		if left(e) == c.callerCh {
			return heardLeft
		}
		if pf, ok := e.(*v5.PlaybackFinished); ok && pf.Playback.ID == id {
			return heardAll
		}
		c.log.Debug("event while a prompt plays", "playback", id, "event", e.GetType())
		if other != nil {
			other(e)
		}
	}
}

// ask plays media and collects the keys the caller presses, from the start of the prompt
// (a key cuts it short) until #, max keys, or a pause (firstDigitWait after the prompt,
// nextDigitWait after a key). The # is not part of the answer.
func (c *call) ask(ctx context.Context, max int, media ...string) (string, heard) {
	ast := c.app.Asterisk
	id := c.playbackID()
	playing := true
	if err := ast.Play(c.op(), c.callerCh, id, media...); err != nil {
		c.log.Warn("play prompt", "media", media, "error", err)
		playing = false
	}
	timer := time.NewTimer(promptLimit)
	if !playing {
		timer.Reset(firstDigitWait)
	}
	defer timer.Stop()
	digits := ""
	for {
		e, why := c.wait(ctx, timer.C)
		switch why {
		case wakeStop:
			return digits, heardStop
		case wakeHangup:
			return digits, heardHangup
		case wakeTimer:
			if playing {
				c.log.Warn("prompt never ended", "playback", id)
			}
			return digits, heardAll
		}
		if left(e) == c.callerCh {
			return digits, heardLeft
		}
		switch e := e.(type) {
		case *v5.PlaybackFinished:
			if e.Playback.ID == id && playing {
				playing = false
				wait := firstDigitWait
				if digits != "" {
					wait = nextDigitWait
				}
				timer.Reset(wait)
			}
		case *v5.ChannelDtmfReceived:
			if playing {
				// A key cuts the prompt short: the caller knows what to do.
				go ast.StopPlayback(c.op(), id)
			}
			if e.Digit == "#" {
				return digits, heardAll
			}
			digits += e.Digit
			if len(digits) >= max {
				return digits, heardAll
			}
			if !playing {
				timer.Reset(nextDigitWait)
			}
		}
	}
}
