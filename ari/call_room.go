package ari

import (
	"context"
	"slices"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
)

// A call into a conference room: the caller is answered, asked for the room's PIN when it has
// one (three tries), admitted when the room is neither full nor locked, and put in the room's
// mixing bridge until they hang up or are removed. From the phone, everyone can mute
// themselves (1); moderators can also lock the room (2), remove the last one who joined (3)
// and mute everyone else (4).

// The sounds of rooms (Asterisk's core sounds, those ConfBridge plays).
const (
	soundPIN       = "sound:confbridge-pin"
	soundBadPIN    = "sound:confbridge-pin-bad"
	soundInvalid   = "sound:conf-invalidpin"
	soundLocked    = "sound:conf-locked"
	soundFull      = "sound:conf-full"
	soundRemoved   = "sound:confbridge-removed"
	soundMuted     = "sound:confbridge-muted"
	soundUnmuted   = "sound:confbridge-unmuted"
	soundLockedNow = "sound:confbridge-locked"
	soundUnlocked  = "sound:confbridge-unlocked"
	soundJoin      = "sound:confbridge-join"
	soundLeave     = "sound:confbridge-leave"
)

// pinTries is how many times a caller may enter a wrong PIN.
const pinTries = 3

// maxPINDigits bounds what a caller types for a PIN (the longest valid PIN).
const maxPINDigits = 10

// roomKick is call control's own event for a participant an admin removed (see
// App.KickParticipant): it reaches the participant's call through its mailbox.
type roomKick struct{ v5.EventData }

// Keys is part of v5.Event.
func (*roomKick) Keys() v5.Keys { return nil }

// joinRoom takes a call into the room of its routing step.
func (c *call) joinRoom(ctx context.Context) step {
	ast := c.app.Asterisk
	number := c.route.Room.Number
	br, err := ast.BridgeByID(c.op(), roomBridgeID(number))
	switch {
	case err == nil && slices.Contains(br.Channels, c.callerCh):
		return c.rejoinRoom()
	case ErrorIsUnavailable(err):
		return c.suspend(err)
	}
	if !c.callerUp {
		if err := ast.Answer(c.op(), c.callerCh); err != nil {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.finish(switchboard.Cancelled, "") // gone before the answer
			return nil
		}
		c.callerUp = true
	}
	moderator := false
	if r := c.route.Room; r.PIN != "" || r.ModeratorPIN != "" {
		var ok bool
		if moderator, ok = c.askPIN(ctx); !ok {
			return nil
		}
	}
	return c.enterRoom(ctx, moderator)
}

// askPIN asks for the room's PIN until the caller enters it (or the moderator PIN), at most
// pinTries times. It returns whether they are a moderator, and false when the call ended.
func (c *call) askPIN(ctx context.Context) (moderator, ok bool) {
	r := c.route.Room
	prompt := []string{soundPIN}
	for try := 1; ; try++ {
		pin, how := c.ask(ctx, maxPINDigits, prompt...)
		if !c.promptEnded(how) {
			return false, false
		}
		switch {
		case r.ModeratorPIN != "" && pin == r.ModeratorPIN:
			return true, true
		case pin == r.PIN:
			return false, true
		}
		c.log.Info("wrong room PIN", "room", r.Number, "try", try)
		if try == pinTries {
			if how := c.say(ctx, nil, soundInvalid); !c.promptEnded(how) {
				return false, false
			}
			c.app.Asterisk.Hangup(c.op(), c.callerCh, "normal")
			c.finish(switchboard.Failed, switchboard.ReasonWrongPIN)
			return false, false
		}
		prompt = []string{soundBadPIN, soundPIN}
	}
}

// promptEnded finishes the call when a prompt ended with the caller gone or an admin's
// hang-up, and reports whether it goes on.
func (c *call) promptEnded(how heard) bool {
	switch how {
	case heardLeft:
		c.finish(switchboard.Cancelled, "")
		return false
	case heardHangup:
		c.app.Asterisk.Hangup(c.op(), c.callerCh, "normal")
		c.finish(switchboard.Cancelled, switchboard.ReasonHungUpByAdmin)
		return false
	case heardStop:
		return false
	}
	return true
}

// enterRoom admits the caller when the room has space and is not locked (moderators enter
// locked rooms), and bridges them.
func (c *call) enterRoom(ctx context.Context, moderator bool) step {
	ast := c.app.Asterisk
	settings := c.route.Room
	r := c.app.room(settings.Number)
	r.mu.Lock()
	r.settings = settings
	if len(r.members) == 0 {
		// Nobody here as far as this control plane knows: what Asterisk says of the lock (it
		// may have restarted with people in the room).
		if v, err := ast.Global(c.op(), roomLockedPrefix+settings.Number); err == nil {
			r.locked = v == "1"
		}
	}
	refuse := ""
	switch {
	case r.locked && !moderator:
		refuse = switchboard.ReasonRoomLocked
	case len(r.members) >= max(settings.MaxParticipants, switchboard.MinRoomParticipants):
		refuse = switchboard.ReasonRoomFull
	}
	if refuse != "" {
		r.mu.Unlock()
		c.log.Info("room refused the caller", "room", settings.Number, "reason", refuse)
		sound := soundLocked
		if refuse == switchboard.ReasonRoomFull {
			sound = soundFull
		}
		if how := c.say(ctx, nil, sound); !c.promptEnded(how) {
			return nil
		}
		ast.Hangup(c.op(), c.callerCh, "normal")
		c.finish(switchboard.Missed, refuse)
		return nil
	}
	defer r.mu.Unlock()
	bridge := roomBridgeID(settings.Number)
	if !r.bridged {
		if err := ast.CreateBridge(c.op(), bridge); err != nil && switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.log.Error("create room bridge failed", "room", settings.Number, "error", err)
			ast.Hangup(c.op(), c.callerCh, "normal")
			c.finish(switchboard.Failed, switchboard.ReasonError)
			return nil
		}
		r.bridged = true
	}
	m := &member{call: c, channel: c.callerCh, joined: time.Now(), moderator: moderator}
	// Noted on the channel before it joins: a control plane that restarts finds who they are.
	role := ""
	if moderator {
		role = roleModerator
	}
	ast.SetVariable(c.op(), c.callerCh, varRoomJoined, m.joined.UTC().Format(time.RFC3339Nano))
	if role != "" {
		ast.SetVariable(c.op(), c.callerCh, varRoomRole, role)
	}
	if err := ast.AddToBridge(c.op(), bridge, c.callerCh); err != nil {
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		// Gone at this instant: their events end the call.
		c.log.Info("joining the room failed", "room", settings.Number, "error", err)
		c.finish(switchboard.Cancelled, "")
		return nil
	}
	r.members = append(r.members, m)
	c.member = m
	c.inBridge = true
	c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: m.joined, Bridge: bridge})
	c.log.Info("joined room", "room", settings.Number, "participants", len(r.members), "moderator", moderator)
	c.roomChanged(r, true)
	return c.inRoom
}

// rejoinRoom takes back a participant found in the room's bridge (call control restarted):
// who they are is on their channel.
func (c *call) rejoinRoom() step {
	ast := c.app.Asterisk
	settings := c.route.Room
	r := c.app.room(settings.Number)
	role, _ := ast.ChannelVariable(c.op(), c.callerCh, varRoomRole)
	muted, _ := ast.ChannelVariable(c.op(), c.callerCh, varRoomMuted)
	joinedAt, _ := ast.ChannelVariable(c.op(), c.callerCh, varRoomJoined)
	joined, err := time.Parse(time.RFC3339Nano, joinedAt)
	if err != nil {
		joined = c.record().StartedAt
	}
	m := &member{call: c, channel: c.callerCh, joined: joined, muted: muted == "1", moderator: role == roleModerator}
	r.mu.Lock()
	r.settings = settings
	if len(r.members) == 0 {
		if v, err := ast.Global(c.op(), roomLockedPrefix+settings.Number); err == nil {
			r.locked = v == "1"
		}
	}
	r.bridged = true
	r.members = append(r.members, m)
	r.mu.Unlock()
	c.member, c.inBridge, c.callerUp = m, true, true
	c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: joined, Bridge: roomBridgeID(settings.Number)})
	c.log.Info("participant taken back", "room", settings.Number)
	return c.inRoom
}

// roomChanged plays what the room's participants hear when one joins (joined) or leaves:
// music while one is alone, a tone when someone comes or goes (r.mu held).
func (c *call) roomChanged(r *room, joined bool) {
	ast := c.app.Asterisk
	bridge := roomBridgeID(r.number)
	n := len(r.members)
	if r.settings.MusicWhenAlone {
		switch {
		case n == 1:
			go ast.BridgeMOH(c.op(), bridge, true)
		case n == 2 && joined:
			go ast.BridgeMOH(c.op(), bridge, false)
		}
	}
	if r.settings.AnnounceJoins && (n >= 2 || !joined && n >= 1) {
		sound := soundJoin
		if !joined {
			sound = soundLeave
		}
		id := c.playbackID()
		go ast.PlayToBridge(c.op(), bridge, id, sound)
	}
}

// inRoom is a participant in the room, until they hang up or are removed.
func (c *call) inRoom(ctx context.Context) step {
	reason := ""
	for {
		e, why := c.wait(ctx, nil)
		switch why {
		case wakeStop:
			c.forgetMember()
			return nil
		case wakeHangup:
			c.hangupHandled = true
			reason = switchboard.ReasonHungUpByAdmin
			c.app.Asterisk.Hangup(c.op(), c.callerCh, "normal")
			continue
		}
		gone := left(e) == c.callerCh
		switch e := e.(type) {
		case *v5.ChannelDtmfReceived:
			gone = c.roomKey(ctx, e.Digit) == heardLeft
		case *roomKick:
			reason = switchboard.ReasonKicked
			c.log.Info("removed from the room", "room", c.route.Room.Number)
			// Told first; the hang-up (or their own) then ends the call.
			gone = c.say(ctx, nil, soundRemoved) == heardLeft
			c.app.Asterisk.Hangup(c.op(), c.callerCh, "normal")
		}
		if gone {
			c.leaveRoom()
			c.finish("", reason)
			return nil
		}
	}
}

// roomKey acts on a key a participant pressed and tells them what it did; heardLeft when they
// hung up meanwhile.
func (c *call) roomKey(ctx context.Context, digit string) heard {
	m := c.member
	r := c.app.room(c.route.Room.Number)
	var sound string
	r.mu.Lock()
	switch {
	case digit == "1":
		if err := c.app.mute(c.op(), m, !m.muted); err == nil {
			sound = soundUnmuted
			if m.muted {
				sound = soundMuted
			}
		}
	case digit == "2" && m.moderator:
		if err := c.app.lock(c.op(), r, !r.locked); err == nil {
			sound = soundUnlocked
			if r.locked {
				sound = soundLockedNow
			}
		}
	case digit == "3" && m.moderator:
		for _, other := range slices.Backward(r.members) {
			if other != m && !other.moderator && !other.kicked {
				other.kicked = true
				other.call.mailbox.push(&roomKick{})
				break
			}
		}
	case digit == "4" && m.moderator:
		// Everyone else muted, or unmuted again when they all are.
		all := true
		for _, other := range r.members {
			all = all && (other == m || other.moderator || other.muted)
		}
		for _, other := range r.members {
			if other != m && !other.moderator {
				c.app.mute(c.op(), other, !all)
			}
		}
		sound = soundMuted
		if all {
			sound = soundUnmuted
		}
	}
	r.mu.Unlock()
	if sound == "" {
		return heardAll
	}
	// Keys pressed while they are told are acted upon after; other events wait their turn.
	var later []v5.Event
	how := c.say(ctx, func(e v5.Event) { later = append(later, e) }, sound)
	c.mailbox.unshift(later)
	return how
}

// leaveRoom takes the participant out of the room; the last one out ends it (its bridge goes,
// its lock with it).
func (c *call) leaveRoom() {
	ast := c.app.Asterisk
	r := c.app.room(c.route.Room.Number)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.remove(c.member) {
		return
	}
	c.log.Info("left room", "room", r.number, "participants", len(r.members))
	if len(r.members) > 0 {
		c.roomChanged(r, false)
		return
	}
	if err := ast.DestroyBridge(c.op(), roomBridgeID(r.number)); err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		c.log.Warn("destroy room bridge", "room", r.number, "error", err)
	}
	r.bridged = false
	if r.locked {
		c.app.lock(c.op(), r, false)
	}
}

// forgetMember drops the participant from the App's record only: the call is being stopped
// and stays in Asterisk's bridge, where the next call control finds it.
func (c *call) forgetMember() {
	r := c.app.room(c.route.Room.Number)
	r.mu.Lock()
	r.remove(c.member)
	r.mu.Unlock()
}
