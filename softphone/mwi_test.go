package softphone_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard/softphone"
)

func TestParseMessageSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want softphone.MWI
	}{
		{"AsteriskWaiting", "Messages-Waiting: yes\r\nMessage-Account: sip:1002@127.0.0.1\r\nVoice-Message: 1/0 (0/0)\r\n",
			softphone.MWI{Waiting: true, New: 1, Account: "sip:1002@127.0.0.1"}},
		{"AsteriskNone", "Messages-Waiting: no\r\nMessage-Account: sip:1002@127.0.0.1\r\nVoice-Message: 0/3 (0/0)\r\n",
			softphone.MWI{Old: 3, Account: "sip:1002@127.0.0.1"}},
		{"UrgentCounts", "Messages-Waiting: yes\r\nVoice-Message: 4/8 (1/2)\r\n",
			softphone.MWI{Waiting: true, New: 4, Old: 8, UrgentNew: 1, UrgentOld: 2}},
		// The urgent part is optional (RFC 3842 section 5.2).
		{"NoUrgentPart", "Messages-Waiting: yes\r\nVoice-Message: 2/8\r\n", softphone.MWI{Waiting: true, New: 2, Old: 8}},
		// Only the status line is required.
		{"StatusOnly", "Messages-Waiting: no", softphone.MWI{}},
		// Header names and the status are case-insensitive; LF line ends and extra blanks are fine.
		{"CaseAndSpacing", "\n  messages-waiting :YES\nVOICE-MESSAGE:  3 / 1 ( 1 / 0 ) \n", softphone.MWI{Waiting: true, New: 3, Old: 1, UrgentNew: 1}},
		// Other message classes are checked but not counted; unknown lines are ignored.
		{"OtherClasses", "Messages-Waiting: yes\r\nFax-Message: 2/0\r\nX-Vendor: 9\r\nVoice-Message: 1/1\r\n", softphone.MWI{Waiting: true, New: 1, Old: 1}},
		// After a blank line come the headers of single messages, which need not look like a summary.
		{"MessageHeaders", "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n\r\nTo: <sip:1002@pbx>\r\nSubject: hello\r\nnot a header\r\n",
			softphone.MWI{Waiting: true, New: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := softphone.ParseMessageSummary([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseMessageSummaryRejects(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"Empty", ""},
		{"Junk", "hello world"},
		{"NoStatus", "Voice-Message: 1/0\r\n"},
		{"StatusMaybe", "Messages-Waiting: maybe\r\n"},
		{"StatusTwice", "Messages-Waiting: yes\r\nMessages-Waiting: no\r\n"},
		{"LineWithoutColon", "Messages-Waiting: yes\r\nVoice-Message 1/0\r\n"},
		{"OneCount", "Messages-Waiting: yes\r\nVoice-Message: 1\r\n"},
		{"NegativeCount", "Messages-Waiting: yes\r\nVoice-Message: -1/0\r\n"},
		{"SignedCount", "Messages-Waiting: yes\r\nVoice-Message: +1/0\r\n"},
		{"HugeCount", "Messages-Waiting: yes\r\nVoice-Message: 99999999999/0\r\n"},
		{"UnclosedUrgent", "Messages-Waiting: yes\r\nVoice-Message: 1/0 (1/0\r\n"},
		{"BadUrgent", "Messages-Waiting: yes\r\nVoice-Message: 1/0 (x/0)\r\n"},
		// A known class other than voice must be well-formed too.
		{"BadFaxCounts", "Messages-Waiting: yes\r\nFax-Message: lots\r\n"},
		// The status line must come before the blank line that ends the summary.
		{"StatusAfterBlankLine", "Voice-Message: 1/0\r\n\r\nMessages-Waiting: yes\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := softphone.ParseMessageSummary([]byte(tc.body)); err == nil {
				t.Errorf("parsed %q as %+v", tc.body, m)
			}
		})
	}
}

// summaryBody renders m as a PBX would send it.
func summaryBody(m softphone.MWI) string {
	status := "no"
	if m.Waiting {
		status = "yes"
	}
	b := "Messages-Waiting: " + status + "\r\n"
	if m.Account != "" {
		b += "Message-Account: " + m.Account + "\r\n"
	}
	return b + fmt.Sprintf("Voice-Message: %d/%d (%d/%d)\r\n", m.New, m.Old, m.UrgentNew, m.UrgentOld)
}

// FuzzParseMessageSummary checks that no body crashes the parser and that what it accepts
// survives being rendered and parsed again.
func FuzzParseMessageSummary(f *testing.F) {
	for _, seed := range []string{
		"Messages-Waiting: yes\r\nMessage-Account: sip:1002@127.0.0.1\r\nVoice-Message: 1/0 (0/0)\r\n",
		"Messages-Waiting: no\r\n",
		"messages-waiting: yes\nvoice-message: 2/8\n\nSubject: x\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/0 (1/\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := softphone.ParseMessageSummary(body)
		if err != nil {
			return
		}
		if m.New < 0 || m.Old < 0 || m.UrgentNew < 0 || m.UrgentOld < 0 {
			t.Fatalf("negative count in %+v", m)
		}
		if strings.ContainsAny(m.Account, "\r\n") {
			return // not renderable on one line; nothing more to check
		}
		again, err := softphone.ParseMessageSummary([]byte(summaryBody(m)))
		if err != nil || again != m {
			t.Fatalf("%+v rendered and parsed again: %+v, %v", m, again, err)
		}
	})
}

func TestMWIEventString(t *testing.T) {
	for _, tc := range []struct {
		mwi  softphone.MWI
		want string
	}{
		{softphone.MWI{Waiting: true, New: 1}, "mwi: messages waiting, 1 new, 0 old"},
		{softphone.MWI{}, "mwi: no messages waiting"},
		{softphone.MWI{Waiting: true, New: 2, Old: 5, UrgentNew: 1}, "mwi: messages waiting, 2 new (1 urgent), 5 old"},
		// Heard messages alone do not light the lamp.
		{softphone.MWI{Old: 3}, "mwi: no messages waiting, 0 new, 3 old"},
	} {
		if got := (softphone.Event{Kind: softphone.EventMWI, MWI: &tc.mwi}).String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestMWIEventJSON(t *testing.T) {
	e := softphone.Event{Kind: softphone.EventMWI, Peer: "1002", MWI: &softphone.MWI{
		Waiting: true, New: 1, Account: "sip:1002@127.0.0.1", Subscription: true,
	}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `"mwi":{"waiting":true,"new":1,"old":0,"urgent_new":0,"urgent_old":0,"account":"sip:1002@127.0.0.1","subscription":true}`
	if !strings.Contains(string(b), `"event":"mwi"`) || !strings.Contains(string(b), want) {
		t.Errorf("got %s, want event mwi and %s", b, want)
	}
	if b, _ := json.Marshal(softphone.Event{Kind: softphone.EventRegistered}); strings.Contains(string(b), "mwi") {
		t.Errorf("other events carry no mwi: %s", b)
	}
}
