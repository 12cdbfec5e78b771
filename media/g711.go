package media

import (
	"fmt"
	"strings"

	"github.com/zaf/g711"
)

// G711 is one of the two G.711 companding laws, the codecs every SIP phone and Asterisk speak.
type G711 int

// The G.711 laws, named after their RTP encoding names (RFC 3551).
const (
	PCMU G711 = iota // µ-law, RTP payload type 0
	PCMA             // A-law, RTP payload type 8
)

// ParseG711 accepts "pcmu", "ulaw", "mulaw", "pcma" or "alaw" (any case).
func ParseG711(name string) (G711, error) {
	switch strings.ToLower(name) {
	case "pcmu", "ulaw", "mulaw", "g711u":
		return PCMU, nil
	case "pcma", "alaw", "g711a":
		return PCMA, nil
	}
	return 0, fmt.Errorf("unknown codec %q (want pcmu or pcma)", name)
}

// String returns the RTP encoding name in lower case: "pcmu" or "pcma".
func (c G711) String() string {
	if c == PCMA {
		return "pcma"
	}
	return "pcmu"
}

// PayloadType returns the static RTP payload type of the law.
func (c G711) PayloadType() uint8 {
	if c == PCMA {
		return 8
	}
	return 0
}

// Encode appends the G.711 encoding of pcm to dst and returns it.
func (c G711) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		if c == PCMA {
			dst = append(dst, g711.EncodeAlawFrame(s))
		} else {
			dst = append(dst, g711.EncodeUlawFrame(s))
		}
	}
	return dst
}

// Decode appends the linear PCM of a G.711 payload to dst and returns it.
func (c G711) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		if c == PCMA {
			dst = append(dst, g711.DecodeAlawFrame(b))
		} else {
			dst = append(dst, g711.DecodeUlawFrame(b))
		}
	}
	return dst
}
