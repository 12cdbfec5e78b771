package ari_test

import (
	"context"
	"slices"
	"strings"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ari"
)

// The simulated Asterisk's side of conference rooms: playbacks end at once (unless held),
// music and mutes are noted, and a phone can press keys.

func (f *simAsterisk) Global(_ context.Context, name string) (string, error) {
	if err := f.record("global " + name); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.globals[name], nil
}

func (f *simAsterisk) Play(_ context.Context, id, playback string, media ...string) error {
	if err := f.record("play " + id + " " + strings.Join(media, ",")); err != nil {
		return err
	}
	f.mu.Lock()
	c := f.channels[id]
	f.mu.Unlock()
	if c == nil {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no channel %s", id)
	}
	go f.emit(&v5.PlaybackFinished{Playback: v5.PlaybackData{ID: playback, TargetURI: "channel:" + id}})
	return nil
}

func (f *simAsterisk) PlayToBridge(_ context.Context, id, playback string, media ...string) error {
	return f.record("play-bridge " + id + " " + strings.Join(media, ","))
}

func (f *simAsterisk) StopPlayback(_ context.Context, playback string) error {
	return f.record("stop-playback " + playback)
}

func (f *simAsterisk) BridgeMOH(_ context.Context, id string, on bool) error {
	op := "moh-off "
	if on {
		op = "moh-on "
	}
	return f.record(op + id)
}

func (f *simAsterisk) Mute(_ context.Context, id string, muted bool) error {
	if err := f.record("mute " + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[id]
	if c == nil {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no channel %s", id)
	}
	c.muted = muted
	return nil
}

func (f *simAsterisk) BridgeByID(_ context.Context, id string) (ari.Bridge, error) {
	if err := f.record("get-bridge " + id); err != nil {
		return ari.Bridge{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	chans, ok := f.bridges[id]
	if !ok {
		return ari.Bridge{}, switchboard.Errorf(switchboard.ENOTFOUND, "no bridge %s", id)
	}
	return ari.Bridge{ID: id, Channels: slices.Clone(chans)}, nil
}

// press sends the keys a phone presses on a channel, one event each.
func (f *simAsterisk) press(id, keys string) {
	for _, k := range keys {
		f.emit(&v5.ChannelDtmfReceived{Channel: v5.ChannelData{ID: id}, Digit: string(k)})
	}
}

func (f *simAsterisk) isMuted(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.channels[id] != nil && f.channels[id].muted
}

func (f *simAsterisk) inBridge(bridge, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.bridges[bridge], id)
}

// roomDirectory is a fake directory of rooms.
type roomDirectory map[string]switchboard.Room

func (d roomDirectory) Room(_ context.Context, number string) (switchboard.Room, error) {
	if r, ok := d[number]; ok {
		return r, nil
	}
	return switchboard.Room{}, switchboard.Errorf(switchboard.ENOTFOUND, "no room %s", number)
}

// rooms: 800 with a PIN, a moderator PIN and room for three; 801 open to anyone.
var rooms = roomDirectory{
	"800": {Number: "800", Name: "Board", PIN: "1234", ModeratorPIN: "9999", MaxParticipants: 3,
		AnnounceJoins: true, MusicWhenAlone: true},
	"801": {Number: "801", Name: "Open", MaxParticipants: 20},
}
