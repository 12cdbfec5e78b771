package api_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/media"
)

func TestGreetings(t *testing.T) {
	ta := newTestAPI(t)
	ta.do("POST", "/api/v1/users", `{"extension":"1002","name":"Bob"}`)
	base := "/api/v1/users/1002/voicemail/greetings"
	if r := ta.do("GET", base, ""); r.Status != 200 || string(bytes.TrimSpace(r.Body)) != `{"greetings":[]}` {
		t.Errorf("no greetings yet: %d %s", r.Status, r.Body)
	}

	// Two seconds at 16 kHz: stored at 8 kHz, as Asterisk plays it.
	var upload bytes.Buffer
	media.WriteWAV(&upload, media.Tone(700, -12, 16000, 32000), 16000)
	r := ta.do("PUT", base+"/unavailable", upload.String(), "Content-Type", "audio/wav")
	var g api.Greeting
	json.Unmarshal(r.Body, &g)
	if r.Status != 200 || g.Greeting != "unavailable" || g.DurationMS != 2000 || g.Size != 44+2*8000*2 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	stored, err := os.ReadFile(filepath.Join(ta.spool, "voicemail", "default", "1002", "unavail.wav"))
	if err != nil {
		t.Fatal(err)
	}
	samples, format, err := media.ReadWAV(bytes.NewReader(stored))
	if err != nil || format.SampleRate != 8000 || !media.DetectTone(samples, 700, 8000).Detected {
		t.Errorf("stored greeting: %v %v", format, err)
	}
	if r := ta.do("GET", base+"/unavailable", ""); r.Status != 200 || !bytes.Equal(r.Body, stored) ||
		r.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("download: %d, %d bytes", r.Status, len(r.Body))
	}
	if r := ta.do("GET", base, ""); !strings.Contains(string(r.Body), `"greeting":"unavailable"`) {
		t.Errorf("list: %s", r.Body)
	}

	// Not audio, too short, too long, too big, an unknown greeting: 400 (413), nothing written.
	long := bytes.Buffer{}
	media.WriteWAV(&long, make([]int16, 61*8000), 8000)
	short := bytes.Buffer{}
	media.WriteWAV(&short, make([]int16, 800), 8000)
	for _, tc := range []struct {
		name, path, body string
		status           int
	}{
		{"Text", base + "/busy", "this is not a recording", 400},
		{"HTML", base + "/busy", "<html>RIFF WAVE</html>", 400},
		{"Empty", base + "/busy", "", 400},
		{"TooShort", base + "/busy", short.String(), 400},
		{"TooLong", base + "/busy", long.String(), 400},
		{"TooBig", base + "/busy", strings.Repeat("x", api.MaxGreetingBytes+1), 413},
		{"UnknownGreeting", base + "/temp", upload.String(), 400},
		{"Traversal", base + "/..%2f..%2funavail", upload.String(), 400},
		{"UnknownUser", "/api/v1/users/1009/voicemail/greetings/busy", upload.String(), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := ta.do("PUT", tc.path, tc.body); r.Status != tc.status {
				t.Errorf("PUT %s: %d %s, want %d", tc.path, r.Status, r.Body, tc.status)
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Join(ta.spool, "voicemail", "default", "1002"))
	if len(entries) != 1 || entries[0].Name() != "unavail.wav" {
		t.Errorf("refused uploads left files: %v", entries)
	}

	if r := ta.do("DELETE", base+"/unavailable", ""); r.Status != 204 {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := ta.do("DELETE", base+"/unavailable", ""); r.Status != 404 {
		t.Errorf("delete again: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", base+"/unavailable", ""); r.Status != 404 {
		t.Errorf("deleted greeting: %d", r.Status)
	}
}
