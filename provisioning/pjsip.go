package provisioning

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/switchboard-pbx/switchboard"
)

// PJSIPObject is one res_pjsip object of a user (an endpoint, its auth or its AOR) with the
// fields that are the user's own. The templates of asterisk/pjsip.conf give everything else:
// the generated file names them as the section's template, a push over ARI adds their fields.
type PJSIPObject struct {
	Type   string // endpoint, auth or aor
	ID     string
	Fields []Field
}

// Field is one option of a PJSIP object; a name may come more than once (password_digest).
type Field struct{ Name, Value string }

// The templates of asterisk/pjsip.conf each object type inherits.
var pjsipTemplates = map[string]string{
	"endpoint": "switchboard-endpoint",
	"auth":     "switchboard-auth",
	"aor":      "switchboard-aor",
}

// PJSIPObjectsOf returns u's objects in the order Asterisk needs them created: the auth and
// the AOR before the endpoint that names them. Every field a user may change is always given,
// empty when unset (mailboxes without voicemail), so that a pushed object replaces an older
// one completely.
func PJSIPObjectsOf(u switchboard.User) []PJSIPObject {
	e := u.Extension
	mailboxes := ""
	if u.Voicemail.Enabled {
		mailboxes = e + "@default"
	}
	return []PJSIPObject{
		{Type: "auth", ID: e, Fields: []Field{
			{"username", e},
			{"password_digest", "MD5:" + u.Credentials.MD5},
			{"password_digest", "SHA-256:" + u.Credentials.SHA256},
		}},
		{Type: "aor", ID: e, Fields: []Field{
			{"max_contacts", fmt.Sprint(max(u.Calls.MaxDevices, 1))},
			// A phone may SUBSCRIBE to its own AOR for message-waiting state (RFC 3842).
			{"mailboxes", mailboxes},
		}},
		{Type: "endpoint", ID: e, Fields: []Field{
			{"auth", e},
			{"aors", e},
			{"callerid", `"` + u.Name + `" <` + e + `>`},
			{"mailboxes", mailboxes},
		}},
	}
}

// PJSIPTombstone returns what replaces a deleted user's objects in a running Asterisk, which
// cannot forget an object its files gave it: an auth no password matches (random digests,
// never shown) and an endpoint with no mailbox that routes nowhere. Requests in the deleted
// user's name then fail as a wrong password would. The AOR stays as it is (no phone can
// register to it any more); the phones' registrations must be dropped besides (contacts are
// objects of their own).
func PJSIPTombstone(ext string) []PJSIPObject {
	random := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return hex.EncodeToString(b)
	}
	return []PJSIPObject{
		{Type: "auth", ID: ext, Fields: []Field{
			{"username", ext},
			{"password_digest", "MD5:" + random(16)},
			{"password_digest", "SHA-256:" + random(32)},
		}},
		{Type: "endpoint", ID: ext, Fields: []Field{
			{"auth", ext},
			{"aors", ext},
			{"callerid", ""},
			{"mailboxes", ""},
			{"context", "switchboard-deleted"},
		}},
	}
}

// RenderPJSIP renders every user's objects, each section inheriting its template of
// asterisk/pjsip.conf (NAT, codecs, DSCP, qualify). Only digests are written.
func RenderPJSIP(users []switchboard.User) []byte {
	var b bytes.Buffer
	b.WriteString(generatedHeader)
	for _, u := range users {
		for _, o := range PJSIPObjectsOf(u) {
			fmt.Fprintf(&b, "\n[%s](%s)\n", o.ID, pjsipTemplates[o.Type])
			for _, f := range o.Fields {
				if f.Value != "" {
					fmt.Fprintf(&b, "%s = %s\n", f.Name, f.Value)
				}
			}
		}
	}
	return b.Bytes()
}
