package softphone_test

import (
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// fakePBX is the PBX end of a UDP socket: the test reads what the phone sends and writes the
// PBX's answers and NOTIFYs by hand, so every header is the test's to check or to choose.
type fakePBX struct {
	t      *testing.T
	conn   net.PacketConn
	parser *sip.Parser
	phone  net.Addr // where the phone's last message came from
}

func startFakePBX(t *testing.T) *fakePBX {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fakePBX{t: t, conn: conn, parser: sip.NewParser()}
}

func (f *fakePBX) addr() string { return f.conn.LocalAddr().String() }

// read returns the phone's next message, failing the test after 5 s without one.
func (f *fakePBX) read() sip.Message {
	f.t.Helper()
	buf := make([]byte, 65535)
	f.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := f.conn.ReadFrom(buf)
	if err != nil {
		f.t.Fatalf("fake pbx: %v", err)
	}
	msg, err := f.parser.ParseSIP(buf[:n])
	if err != nil {
		f.t.Fatalf("fake pbx: parse %q: %v", buf[:n], err)
	}
	f.phone = from
	return msg
}

func (f *fakePBX) readRequest(method sip.RequestMethod) *sip.Request {
	f.t.Helper()
	req, ok := f.read().(*sip.Request)
	if !ok || req.Method != method {
		f.t.Fatalf("fake pbx: want a %s request, got %v", method, req)
	}
	return req
}

func (f *fakePBX) readResponse() *sip.Response {
	f.t.Helper()
	res, ok := f.read().(*sip.Response)
	if !ok {
		f.t.Fatal("fake pbx: want a response, got a request")
	}
	return res
}

func (f *fakePBX) write(msg sip.Message) {
	f.t.Helper()
	if _, err := f.conn.WriteTo([]byte(msg.String()), f.phone); err != nil {
		f.t.Fatalf("fake pbx: %v", err)
	}
}

// respond answers req; a 2xx carries the PBX's tag, its Contact and the Expires it grants.
func (f *fakePBX) respond(req *sip.Request, status int, reason string, headers ...sip.Header) {
	f.t.Helper()
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	if status < 300 {
		res.To().Params.Add("tag", "pbx-tag")
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: f.conn.LocalAddr().(*net.UDPAddr).Port}})
	}
	for _, h := range headers {
		res.AppendHeader(h)
	}
	f.write(res)
}

// notify sends a NOTIFY with body to the phone and returns the phone's answer. Within a
// subscription (sub is its SUBSCRIBE) it goes in the dialog; with sub nil it is unsolicited, as
// Asterisk sends it to a registered phone: out of any dialog, yet with Subscription-State.
func (f *fakePBX) notify(sub *sip.Request, event, state, body string) *sip.Response {
	f.t.Helper()
	target := sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1", Port: f.phone.(*net.UDPAddr).Port}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", "pbx-tag")
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1"}, Params: sip.NewParams()}
	callID := sip.CallIDHeader("unsolicited-" + sip.GenerateTagN(8))
	if sub != nil {
		target = sub.Contact().Address
		t := sub.From().AsTo()
		to = &t
		callID = sip.CallIDHeader(sub.CallID().Value())
	}
	req := sip.NewRequest(sip.NOTIFY, target)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1",
		Port: f.conn.LocalAddr().(*net.UDPAddr).Port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	maxForwards := sip.MaxForwardsHeader(70)
	req.AppendHeader(via)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	req.AppendHeader(&maxForwards)
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/simple-message-summary"))
	req.SetBody([]byte(body))
	f.write(req)
	return f.readResponse()
}
