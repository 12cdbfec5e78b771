// Package softphone is a SIP phone for people and for tests, built on sipgo and diago: it
// registers an extension, places and answers calls, sends a tone, a WAV file or DTMF (RFC 4733),
// and measures what it receives (RTP loss and jitter, audio level, the presence of a tone).
//
// A Phone is one account on one PBX over one transport. Register keeps it registered; Call
// dials an extension; Answer registers and answers incoming calls. Each call yields a Report,
// and every failure is an *Error whose Outcome maps to an ExitCode of cmd/softphone.
// Message-waiting indications (RFC 3842), unsolicited or within a subscription made with
// SubscribeMWI, are reported as EventMWI events.
//
//	p, err := softphone.Open(ctx, softphone.Options{Server: "127.0.0.1:5060", Username: "1001", Password: pw})
//	defer p.Close()
//	rep, err := p.Call(ctx, "1002", softphone.CallOptions{MediaOptions: softphone.MediaOptions{
//		Tone: 1000, ExpectTone: 2000, Duration: 5 * time.Second,
//	}})
package softphone
