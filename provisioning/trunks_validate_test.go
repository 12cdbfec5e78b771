package provisioning_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// validTrunk is a trunk that registers, as a provider's account would be set up.
func validTrunk() switchboard.Trunk {
	return switchboard.Trunk{Name: "sipgate", Host: "sip.example.net", Port: 5060,
		Transport: switchboard.TransportUDP, Auth: switchboard.AuthRegister,
		Username: "acct-1234", Password: "s3cret!pass", Addresses: []string{"192.0.2.0/24", "198.51.100.7"},
		Codecs: []string{"ulaw", "alaw"}, CallerID: "+4930123456", SendPAI: true, ChannelLimit: 10}
}

// checkMessage fails unless err is what the row wants: nil for ok, else EINVALID with a message
// holding msg.
func checkMessage(t *testing.T, err error, ok bool, msg string) {
	t.Helper()
	switch {
	case ok && err != nil:
		t.Errorf("refused: %v", err)
	case !ok && switchboard.ErrorCode(err) != switchboard.EINVALID:
		t.Errorf("got %v, want invalid", err)
	case !ok && !strings.Contains(switchboard.ErrorMessage(err), msg):
		t.Errorf("message %q does not mention %q", switchboard.ErrorMessage(err), msg)
	}
}

func TestValidateTrunk(t *testing.T) {
	many := func(n int) []string {
		var nets []string
		for i := range n {
			nets = append(nets, fmt.Sprintf("10.0.%d.0/24", i))
		}
		return nets
	}
	ipAuth := func(tr *switchboard.Trunk) { tr.Auth, tr.Username, tr.Password = switchboard.AuthIP, "", "" }
	tests := []struct {
		name   string
		change func(*switchboard.Trunk)
		ok     bool
		msg    string // part of the message, for the rows that fail
	}{
		{"OK", func(*switchboard.Trunk) {}, true, ""},
		{"IP", ipAuth, true, ""},
		{"TCP", func(tr *switchboard.Trunk) { tr.Transport = switchboard.TransportTCP }, true, ""},
		{"HostIPv4", func(tr *switchboard.Trunk) { tr.Host = "203.0.113.5" }, true, ""},
		{"HostOneLabel", func(tr *switchboard.Trunk) { tr.Host = "asterisk" }, true, ""},
		{"HostUpperCase", func(tr *switchboard.Trunk) { tr.Host = "SIP.Example.NET" }, true, ""},
		{"HostLongest", func(tr *switchboard.Trunk) { tr.Host = strings.Repeat("a", 253) }, true, ""},
		{"NameOneChar", func(tr *switchboard.Trunk) { tr.Name = "a" }, true, ""},
		{"NameLongest", func(tr *switchboard.Trunk) { tr.Name = strings.Repeat("a", 32) }, true, ""},
		{"NameDigitsAndHyphens", func(tr *switchboard.Trunk) { tr.Name = "0-provider-2" }, true, ""},
		{"PortHighest", func(tr *switchboard.Trunk) { tr.Port = 65535 }, true, ""},
		{"NoAddresses", func(tr *switchboard.Trunk) { tr.Addresses = nil }, true, ""},
		{"MostAddresses", func(tr *switchboard.Trunk) { tr.Addresses = many(16) }, true, ""},
		{"AddressAll", func(tr *switchboard.Trunk) { tr.Addresses = []string{"0.0.0.0/0"} }, true, ""},
		{"AddressHostPrefix", func(tr *switchboard.Trunk) { tr.Addresses = []string{"192.0.2.1/32"} }, true, ""},
		{"OneCodec", func(tr *switchboard.Trunk) { tr.Codecs = []string{"g722"} }, true, ""},
		{"EveryCodec", func(tr *switchboard.Trunk) { tr.Codecs = []string{"gsm", "g722", "alaw", "ulaw"} }, true, ""},
		{"NoCallerID", func(tr *switchboard.Trunk) { tr.CallerID = "" }, true, ""},
		{"CallerIDWithoutPlus", func(tr *switchboard.Trunk) { tr.CallerID = "030123456" }, true, ""},
		{"NoChannelLimit", func(tr *switchboard.Trunk) { tr.ChannelLimit = 0 }, true, ""},
		{"MostChannels", func(tr *switchboard.Trunk) { tr.ChannelLimit = switchboard.MaxTrunkChannels }, true, ""},
		{"PasswordShortest", func(tr *switchboard.Trunk) { tr.Password = "abcdefgh" }, true, ""},
		{"PasswordLongest", func(tr *switchboard.Trunk) { tr.Password = strings.Repeat("x", 128) }, true, ""},
		{"PasswordSymbols", func(tr *switchboard.Trunk) { tr.Password = "!%*+,./:=?@^_~-" }, true, ""},
		{"UsernameSymbols", func(tr *switchboard.Trunk) { tr.Username = "a.b_c+d-e" }, true, ""},
		{"UsernameLongest", func(tr *switchboard.Trunk) { tr.Username = strings.Repeat("u", 64) }, true, ""},

		{"NameEmpty", func(tr *switchboard.Trunk) { tr.Name = "" }, false, "trunk name"},
		{"NameTooLong", func(tr *switchboard.Trunk) { tr.Name = strings.Repeat("a", 33) }, false, "trunk name"},
		{"NameUpperCase", func(tr *switchboard.Trunk) { tr.Name = "Sipgate" }, false, "trunk name"},
		{"NameLeadingHyphen", func(tr *switchboard.Trunk) { tr.Name = "-sipgate" }, false, "trunk name"},
		{"NameUnderscore", func(tr *switchboard.Trunk) { tr.Name = "sip_gate" }, false, "trunk name"},
		// A section header smuggled into the name of the trunk's Asterisk objects.
		{"NameSection", func(tr *switchboard.Trunk) { tr.Name = "a]\n[evil" }, false, "trunk name"},
		{"NameNonASCII", func(tr *switchboard.Trunk) { tr.Name = "sípgate" }, false, "trunk name"},
		{"HostEmpty", func(tr *switchboard.Trunk) { tr.Host = "" }, false, "host"},
		{"HostTooLong", func(tr *switchboard.Trunk) { tr.Host = strings.Repeat("a", 254) }, false, "host"},
		{"HostTrailingDot", func(tr *switchboard.Trunk) { tr.Host = "sip.example.net." }, false, "host"},
		{"HostTrailingHyphen", func(tr *switchboard.Trunk) { tr.Host = "sip-" }, false, "host"},
		{"HostLeadingDot", func(tr *switchboard.Trunk) { tr.Host = ".example.net" }, false, "host"},
		{"HostEmptyLabel", func(tr *switchboard.Trunk) { tr.Host = "sip..example.net" }, false, "host"},
		{"HostIPv6", func(tr *switchboard.Trunk) { tr.Host = "2001:db8::1" }, false, "IPv6 is not supported"},
		{"HostIPv6Literal", func(tr *switchboard.Trunk) { tr.Host = "[2001:db8::1]" }, false, "host"},
		// A port or a URI would land in the contact line as they are.
		{"HostWithPort", func(tr *switchboard.Trunk) { tr.Host = "sip.example.net:5080" }, false, "host"},
		{"HostURI", func(tr *switchboard.Trunk) { tr.Host = "sip:sip.example.net" }, false, "host"},
		{"HostComment", func(tr *switchboard.Trunk) { tr.Host = "sip.example.net;evil" }, false, "host"},
		{"HostNewline", func(tr *switchboard.Trunk) { tr.Host = "sip.example.net\n[evil]" }, false, "host"},
		{"HostSpace", func(tr *switchboard.Trunk) { tr.Host = "sip example" }, false, "host"},
		{"PortZero", func(tr *switchboard.Trunk) { tr.Port = 0 }, false, "port must be 1 to 65535"},
		{"PortTooHigh", func(tr *switchboard.Trunk) { tr.Port = 65536 }, false, "port"},
		{"PortNegative", func(tr *switchboard.Trunk) { tr.Port = -1 }, false, "port"},
		{"TransportEmpty", func(tr *switchboard.Trunk) { tr.Transport = "" }, false, "transport must be udp or tcp"},
		// TLS needs certificates the trunk does not have yet.
		{"TransportTLS", func(tr *switchboard.Trunk) { tr.Transport = "tls" }, false, "transport"},
		{"TransportUpperCase", func(tr *switchboard.Trunk) { tr.Transport = "UDP" }, false, "transport"},
		{"AuthEmpty", func(tr *switchboard.Trunk) { tr.Auth = "" }, false, "auth must be register or ip"},
		{"AuthUnknown", func(tr *switchboard.Trunk) { tr.Auth = "digest" }, false, "auth"},
		{"RegisterWithoutUsername", func(tr *switchboard.Trunk) { tr.Username = "" }, false, "username must be"},
		{"RegisterWithoutPassword", func(tr *switchboard.Trunk) { tr.Password = "" }, false, "password must be"},
		{"UsernameTooLong", func(tr *switchboard.Trunk) { tr.Username = strings.Repeat("u", 65) }, false, "username"},
		{"UsernameAt", func(tr *switchboard.Trunk) { tr.Username = "acct@example.net" }, false, "username"},
		{"UsernameSpace", func(tr *switchboard.Trunk) { tr.Username = "acct 1" }, false, "username"},
		{"UsernameNewline", func(tr *switchboard.Trunk) { tr.Username = "acct\n[evil]" }, false, "username"},
		{"PasswordTooShort", func(tr *switchboard.Trunk) { tr.Password = "abcdefg" }, false, "password must be 8 to 128"},
		{"PasswordTooLong", func(tr *switchboard.Trunk) { tr.Password = strings.Repeat("x", 129) }, false, "password"},
		// Each of these would end the password's value, or the line, in pjsip.conf.
		{"PasswordSemicolon", func(tr *switchboard.Trunk) { tr.Password = "abcd;efgh" }, false, "password"},
		{"PasswordHash", func(tr *switchboard.Trunk) { tr.Password = "abcd#efgh" }, false, "password"},
		{"PasswordQuote", func(tr *switchboard.Trunk) { tr.Password = `abcd"efgh` }, false, "password"},
		{"PasswordBackslash", func(tr *switchboard.Trunk) { tr.Password = `abcd\efgh` }, false, "password"},
		{"PasswordSpace", func(tr *switchboard.Trunk) { tr.Password = "abcd efgh" }, false, "password"},
		{"PasswordNewline", func(tr *switchboard.Trunk) { tr.Password = "abcdefgh\n[evil]" }, false, "password"},
		{"PasswordNonASCII", func(tr *switchboard.Trunk) { tr.Password = "pässwörter" }, false, "password"},
		{"IPWithUsername", func(tr *switchboard.Trunk) { ipAuth(tr); tr.Username = "acct" }, false, "auth ip takes no username or password"},
		{"IPWithPassword", func(tr *switchboard.Trunk) { ipAuth(tr); tr.Password = "s3cret!pass" }, false, "auth ip takes no"},
		{"TooManyAddresses", func(tr *switchboard.Trunk) { tr.Addresses = many(17) }, false, "at most 16"},
		{"AddressTwice", func(tr *switchboard.Trunk) { tr.Addresses = []string{"192.0.2.7", "192.0.2.7/32"} }, false, "listed twice"},
		{"AddressHostBits", func(tr *switchboard.Trunk) { tr.Addresses = []string{"192.0.2.1/24"} }, false, "the network is 192.0.2.0/24"},
		{"AddressIPv6", func(tr *switchboard.Trunk) { tr.Addresses = []string{"2001:db8::/32"} }, false, "IPv4"},
		{"AddressMappedIPv6", func(tr *switchboard.Trunk) { tr.Addresses = []string{"::ffff:192.0.2.1"} }, false, "IPv4"},
		{"AddressName", func(tr *switchboard.Trunk) { tr.Addresses = []string{"sip.example.net"} }, false, `address "sip.example.net"`},
		{"AddressLeadingZeros", func(tr *switchboard.Trunk) { tr.Addresses = []string{"192.000.2.1"} }, false, "IPv4"},
		{"AddressPrefixTooLong", func(tr *switchboard.Trunk) { tr.Addresses = []string{"192.0.2.0/33"} }, false, "IPv4"},
		{"AddressEmpty", func(tr *switchboard.Trunk) { tr.Addresses = []string{""} }, false, "IPv4"},
		{"AddressNewline", func(tr *switchboard.Trunk) { tr.Addresses = []string{"192.0.2.1\n[evil]"} }, false, `"192.0.2.1\n[evil]"`},
		{"NoCodecs", func(tr *switchboard.Trunk) { tr.Codecs = nil }, false, "codecs must list 1 to 4"},
		{"CodecTwice", func(tr *switchboard.Trunk) { tr.Codecs = []string{"ulaw", "ulaw"} }, false, "codec ulaw is listed twice"},
		{"CodecUnknown", func(tr *switchboard.Trunk) { tr.Codecs = []string{"opus"} }, false, `codec "opus"`},
		{"CodecUpperCase", func(tr *switchboard.Trunk) { tr.Codecs = []string{"ULAW"} }, false, "codec"},
		// "all" would allow every codec Asterisk has, not a choice among ours.
		{"CodecAll", func(tr *switchboard.Trunk) { tr.Codecs = []string{"all"} }, false, "codec"},
		{"TooManyCodecs", func(tr *switchboard.Trunk) { tr.Codecs = []string{"ulaw", "alaw", "g722", "gsm", "ulaw"} }, false, "codecs"},
		{"CallerIDTooShort", func(tr *switchboard.Trunk) { tr.CallerID = "1" }, false, "caller_id must be"},
		{"CallerIDTooLong", func(tr *switchboard.Trunk) { tr.CallerID = "+" + strings.Repeat("1", 21) }, false, "caller_id"},
		{"CallerIDOnlyPlus", func(tr *switchboard.Trunk) { tr.CallerID = "+" }, false, "caller_id"},
		{"CallerIDName", func(tr *switchboard.Trunk) { tr.CallerID = `"Boss" <1234>` }, false, "caller_id"},
		{"CallerIDSpaces", func(tr *switchboard.Trunk) { tr.CallerID = "030 123456" }, false, "caller_id"},
		{"ChannelsNegative", func(tr *switchboard.Trunk) { tr.ChannelLimit = -1 }, false, "channel_limit must be 0 to 10000"},
		{"ChannelsTooMany", func(tr *switchboard.Trunk) { tr.ChannelLimit = switchboard.MaxTrunkChannels + 1 }, false, "channel_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := validTrunk()
			tt.change(&tr)
			err := provisioning.ValidateTrunk(tr)
			checkMessage(t, err, tt.ok, tt.msg)
			if err != nil && tr.Password != "" && strings.Contains(err.Error(), tr.Password) {
				t.Errorf("the message quotes the password: %v", err)
			}
		})
	}
}

// No message about a trunk ever depends on its password's characters, whatever else is wrong
// with the trunk: only on its length and on whether each character is allowed.
func TestValidateTrunkNeverQuotesPassword(t *testing.T) {
	for _, password := range []string{"short", "has space in it", "abcd;efgh", "p\nassword", strings.Repeat("z", 200), "password"} {
		for _, change := range []func(*switchboard.Trunk){
			func(*switchboard.Trunk) {},
			func(tr *switchboard.Trunk) { tr.Auth = switchboard.AuthIP },
			func(tr *switchboard.Trunk) { tr.Username = "" },
		} {
			tr := validTrunk()
			tr.Password = password
			change(&tr)
			checkPasswordUnsaid(t, tr)
		}
	}
}

// checkPasswordUnsaid fails when ValidateTrunk says something else of tr than of tr with
// another password that its rules cannot tell apart (same length, the same characters
// allowed): what it said then depends on the password's characters.
func checkPasswordUnsaid(t *testing.T, tr switchboard.Trunk) {
	t.Helper()
	masked := tr
	masked.Password = strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!%*+,./:=?@^_~-", r)) {
			return 'a'
		}
		return ' '
	}, tr.Password)
	// strings.Map counts runes, the rules bytes: keep the length in bytes.
	masked.Password += strings.Repeat(" ", len(tr.Password)-len(masked.Password))
	if len(masked.Password) != len(tr.Password) {
		t.Fatalf("mask of %q is %d bytes", tr.Password, len(masked.Password))
	}
	said, unmasked := fmt.Sprint(provisioning.ValidateTrunk(masked)), fmt.Sprint(provisioning.ValidateTrunk(tr))
	if said != unmasked {
		t.Fatalf("password %q: %s; with another password alike: %s", tr.Password, unmasked, said)
	}
}

func TestValidateRoute(t *testing.T) {
	ok := func() switchboard.OutboundRoute {
		return switchboard.OutboundRoute{Name: "national", Position: 10,
			Patterns: []switchboard.DialPattern{{Prefix: "9", Match: "0NXXXXXX.", Prepend: ""}, {Match: "+49Z."}},
			Trunks:   []string{"sipgate", "backup"}, Users: []string{"1001", "1002"}, CallerID: "+4930123456"}
	}
	pattern := func(p switchboard.DialPattern) func(*switchboard.OutboundRoute) {
		return func(r *switchboard.OutboundRoute) { r.Patterns = []switchboard.DialPattern{p} }
	}
	many := func(n int, f func(int) string) []string {
		var s []string
		for i := range n {
			s = append(s, f(i))
		}
		return s
	}
	tests := []struct {
		name   string
		change func(*switchboard.OutboundRoute)
		ok     bool
		msg    string
	}{
		{"OK", func(*switchboard.OutboundRoute) {}, true, ""},
		{"Emergency", func(r *switchboard.OutboundRoute) {
			r.Emergency, r.Patterns = true, []switchboard.DialPattern{{Match: "112"}}
		}, true, ""},
		{"Everyone", func(r *switchboard.OutboundRoute) { r.Users = nil }, true, ""},
		{"FirstPosition", func(r *switchboard.OutboundRoute) { r.Position = 0 }, true, ""},
		{"LastPosition", func(r *switchboard.OutboundRoute) { r.Position = provisioning.MaxRoutePosition }, true, ""},
		{"NoCallerID", func(r *switchboard.OutboundRoute) { r.CallerID = "" }, true, ""},
		{"Set", pattern(switchboard.DialPattern{Match: "[1-5]XX"}), true, ""},
		{"SetOfSeveral", pattern(switchboard.DialPattern{Match: "0[0135-79]X."}), true, ""},
		{"PrefixStarHash", pattern(switchboard.DialPattern{Prefix: "*#0", Match: "X."}), true, ""},
		{"PrependPlus", pattern(switchboard.DialPattern{Prefix: "00", Match: "Z.", Prepend: "+"}), true, ""},
		{"LongestMatch", pattern(switchboard.DialPattern{Match: strings.Repeat("X", 32)}), true, ""},
		{"LongestPrefixAndPrepend", pattern(switchboard.DialPattern{Prefix: "12345678", Match: "X", Prepend: "+12345678"}), true, ""},
		// Same match after another prefix is another way of dialling.
		{"SameMatchOtherPrefix", func(r *switchboard.OutboundRoute) {
			r.Patterns = []switchboard.DialPattern{{Prefix: "9", Match: "X."}, {Prefix: "0", Match: "X."}}
		}, true, ""},
		{"MostPatterns", func(r *switchboard.OutboundRoute) {
			r.Patterns = nil
			for i := range provisioning.MaxRoutePatterns {
				r.Patterns = append(r.Patterns, switchboard.DialPattern{Match: fmt.Sprintf("%dX.", i)})
			}
		}, true, ""},
		{"MostTrunks", func(r *switchboard.OutboundRoute) {
			r.Trunks = many(8, func(i int) string { return fmt.Sprintf("t%d", i) })
		}, true, ""},
		{"MostUsers", func(r *switchboard.OutboundRoute) {
			r.Users = many(1000, func(i int) string { return fmt.Sprintf("%04d", i) })
		}, true, ""},

		{"NameEmpty", func(r *switchboard.OutboundRoute) { r.Name = "" }, false, "route name"},
		{"NameSpace", func(r *switchboard.OutboundRoute) { r.Name = "long distance" }, false, "route name"},
		{"PositionNegative", func(r *switchboard.OutboundRoute) { r.Position = -1 }, false, "position must be 0 to 100000"},
		{"PositionTooHigh", func(r *switchboard.OutboundRoute) { r.Position = provisioning.MaxRoutePosition + 1 }, false, "position"},
		{"NoPatterns", func(r *switchboard.OutboundRoute) { r.Patterns = nil }, false, "patterns must list 1 to 20"},
		{"TooManyPatterns", func(r *switchboard.OutboundRoute) {
			for i := range provisioning.MaxRoutePatterns {
				r.Patterns = append(r.Patterns, switchboard.DialPattern{Match: fmt.Sprintf("%dXX", i)})
			}
		}, false, "patterns must list"},
		{"PatternTwice", func(r *switchboard.OutboundRoute) { r.Patterns = append(r.Patterns, r.Patterns[0]) }, false, "pattern 9|0NXXXXXX. is listed twice"},
		{"PatternTwiceOtherPrepend", func(r *switchboard.OutboundRoute) {
			r.Patterns = []switchboard.DialPattern{{Match: "X."}, {Match: "X.", Prepend: "0"}}
		}, false, "listed twice"},
		{"MatchEmpty", pattern(switchboard.DialPattern{Prefix: "9"}), false, "pattern match"},
		{"MatchOnlyDot", pattern(switchboard.DialPattern{Match: "."}), false, "pattern match"},
		{"MatchOnlyPlus", pattern(switchboard.DialPattern{Match: "+"}), false, "pattern match"},
		// Stored matches are upper-case: the service upper-cases what admins give.
		{"MatchLowerCase", pattern(switchboard.DialPattern{Match: "nxx"}), false, "pattern match"},
		{"MatchTooLong", pattern(switchboard.DialPattern{Match: strings.Repeat("X", 33)}), false, "pattern match"},
		{"MatchDotInside", pattern(switchboard.DialPattern{Match: "0.X"}), false, "pattern match"},
		{"MatchTwoDots", pattern(switchboard.DialPattern{Match: "0X.."}), false, "pattern match"},
		// ! matches nothing at all, and would take calls as soon as they start.
		{"MatchBang", pattern(switchboard.DialPattern{Match: "0X!"}), false, "pattern match"},
		{"MatchUnderscore", pattern(switchboard.DialPattern{Match: "_X."}), false, "pattern match"},
		{"MatchPlusInside", pattern(switchboard.DialPattern{Match: "0+X"}), false, "pattern match"},
		{"MatchSetEmpty", pattern(switchboard.DialPattern{Match: "[]X"}), false, "pattern match"},
		{"MatchSetOpen", pattern(switchboard.DialPattern{Match: "[1-5"}), false, "pattern match"},
		{"MatchSetLetter", pattern(switchboard.DialPattern{Match: "[X]"}), false, "pattern match"},
		{"MatchSetDanglingRange", pattern(switchboard.DialPattern{Match: "[1-]"}), false, "pattern match"},
		{"MatchSetLeadingRange", pattern(switchboard.DialPattern{Match: "[-1]"}), false, "pattern match"},
		{"MatchSetNested", pattern(switchboard.DialPattern{Match: "[[1]]"}), false, "pattern match"},
		{"MatchComma", pattern(switchboard.DialPattern{Match: "0X,1"}), false, "pattern match"},
		// A new line would end the extension's line in the dial plan.
		{"MatchNewline", pattern(switchboard.DialPattern{Match: "0X\n[evil]"}), false, `"0X\n[evil]"`},
		{"PrefixTooLong", pattern(switchboard.DialPattern{Prefix: "123456789", Match: "X"}), false, "pattern prefix"},
		{"PrefixLetter", pattern(switchboard.DialPattern{Prefix: "X", Match: "X"}), false, "pattern prefix"},
		{"PrefixPlus", pattern(switchboard.DialPattern{Prefix: "+", Match: "X"}), false, "pattern prefix"},
		{"PrependTooLong", pattern(switchboard.DialPattern{Match: "X", Prepend: "123456789"}), false, "pattern prepend"},
		{"PrependStar", pattern(switchboard.DialPattern{Match: "X", Prepend: "*"}), false, "pattern prepend"},
		{"PrependPlusInside", pattern(switchboard.DialPattern{Match: "X", Prepend: "0+"}), false, "pattern prepend"},
		{"NoTrunks", func(r *switchboard.OutboundRoute) { r.Trunks = nil }, false, "trunks must list 1 to 8"},
		{"TooManyTrunks", func(r *switchboard.OutboundRoute) {
			r.Trunks = many(9, func(i int) string { return fmt.Sprintf("t%d", i) })
		}, false, "trunks must list"},
		{"TrunkTwice", func(r *switchboard.OutboundRoute) { r.Trunks = []string{"a", "b", "a"} }, false, "trunk a is listed twice"},
		// An Asterisk dial string of two trunks smuggled in as one name.
		{"TrunkDialString", func(r *switchboard.OutboundRoute) { r.Trunks = []string{"a&PJSIP/b"} }, false, `trunk "a&PJSIP/b"`},
		{"TrunkEmpty", func(r *switchboard.OutboundRoute) { r.Trunks = []string{""} }, false, "must be a trunk's name"},
		{"TooManyUsers", func(r *switchboard.OutboundRoute) {
			r.Users = many(1001, func(i int) string { return fmt.Sprintf("%04d", i) })
		}, false, "at most 1000"},
		{"UserTwice", func(r *switchboard.OutboundRoute) { r.Users = []string{"1001", "1001"} }, false, "user 1001 is listed twice"},
		{"UserPattern", func(r *switchboard.OutboundRoute) { r.Users = []string{"_X."} }, false, `user "_X."`},
		{"CallerIDBad", func(r *switchboard.OutboundRoute) { r.CallerID = "anonymous" }, false, "caller_id must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok()
			tt.change(&r)
			checkMessage(t, provisioning.ValidateRoute(r), tt.ok, tt.msg)
		})
	}
}

func TestValidateInboundNumber(t *testing.T) {
	ok := func() switchboard.InboundNumber {
		return switchboard.InboundNumber{Number: "+4930123456", Name: "Main line", Trunk: "sipgate",
			Destination: switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "600"}}
	}
	dest := func(kind switchboard.GroupDestinationKind, number string) func(*switchboard.InboundNumber) {
		return func(n *switchboard.InboundNumber) {
			n.Destination = switchboard.GroupDestination{Kind: kind, Number: number}
		}
	}
	tests := []struct {
		name   string
		change func(*switchboard.InboundNumber)
		ok     bool
		msg    string
	}{
		{"OK", func(*switchboard.InboundNumber) {}, true, ""},
		{"WithoutPlus", func(n *switchboard.InboundNumber) { n.Number = "030123456" }, true, ""},
		{"Shortest", func(n *switchboard.InboundNumber) { n.Number = "12" }, true, ""},
		{"Longest", func(n *switchboard.InboundNumber) { n.Number = "+" + strings.Repeat("9", 20) }, true, ""},
		{"NoName", func(n *switchboard.InboundNumber) { n.Name = "" }, true, ""},
		{"NameUnicode", func(n *switchboard.InboundNumber) { n.Name = "Zentrale (Köln)" }, true, ""},
		{"AnyTrunk", func(n *switchboard.InboundNumber) { n.Trunk = "" }, true, ""},
		{"Hangup", dest(switchboard.DestinationHangup, ""), true, ""},
		{"Voicemail", dest(switchboard.DestinationVoicemail, "1001"), true, ""},

		{"NumberEmpty", func(n *switchboard.InboundNumber) { n.Number = "" }, false, "inbound number must be"},
		{"NumberTooShort", func(n *switchboard.InboundNumber) { n.Number = "+1" }, false, "inbound number"},
		{"NumberTooLong", func(n *switchboard.InboundNumber) { n.Number = strings.Repeat("9", 21) }, false, "inbound number"},
		{"NumberPattern", func(n *switchboard.InboundNumber) { n.Number = "_X." }, false, "inbound number"},
		{"NumberSpaces", func(n *switchboard.InboundNumber) { n.Number = "+49 30 123456" }, false, "inbound number"},
		{"NumberTwoPluses", func(n *switchboard.InboundNumber) { n.Number = "++4930" }, false, "inbound number"},
		{"NumberArabicDigits", func(n *switchboard.InboundNumber) { n.Number = "١٢٣٤" }, false, "inbound number"},
		{"NameTooLong", func(n *switchboard.InboundNumber) { n.Name = strings.Repeat("n", 65) }, false, "name must be 1 to 64"},
		{"NameSemicolon", func(n *switchboard.InboundNumber) { n.Name = "Main; line" }, false, "name must not contain"},
		{"NameNewline", func(n *switchboard.InboundNumber) { n.Name = "Main\n[evil]" }, false, "name"},
		{"NameDollar", func(n *switchboard.InboundNumber) { n.Name = "${EXTEN}" }, false, "name"},
		{"NameLeadingSpace", func(n *switchboard.InboundNumber) { n.Name = " Main" }, false, "name"},
		{"TrunkUpperCase", func(n *switchboard.InboundNumber) { n.Trunk = "Sipgate" }, false, `trunk "Sipgate"`},
		{"KindEmpty", dest("", ""), false, "destination.kind must be hangup, voicemail or number"},
		{"KindQueue", dest("queue", "700"), false, "destination.kind"},
		{"HangupWithNumber", dest(switchboard.DestinationHangup, "600"), false, "hangup takes no number"},
		{"NumberWithoutNumber", dest(switchboard.DestinationNumber, ""), false, "destination: number needs"},
		{"VoicemailWithoutNumber", dest(switchboard.DestinationVoicemail, ""), false, "destination: voicemail needs"},
		// An outside number: inbound calls are not sent back out.
		{"DestinationExternal", dest(switchboard.DestinationNumber, "+4930999"), false, "destination: number needs"},
		{"DestinationFeatureCode", dest(switchboard.DestinationNumber, "*97"), false, "destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := ok()
			tt.change(&n)
			checkMessage(t, provisioning.ValidateInboundNumber(n), tt.ok, tt.msg)
		})
	}
}

func TestValidOutboundCallerID(t *testing.T) {
	for _, id := range []string{"", "12", "+4930123456", "+" + strings.Repeat("1", 20)} {
		if err := provisioning.ValidOutboundCallerID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"1", "+", "+1", strings.Repeat("1", 21), "030 1234", "1234;x", "anonymous", "\"A\" <12>", "12\n"} {
		if err := provisioning.ValidOutboundCallerID(id); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("%q: %v, want invalid", id, err)
		}
	}
}

// dangerous are the characters that would change the syntax of pjsip.conf (a comment, a
// section, a quoted or escaped value, the end of a line) if one reached it inside a trunk's
// value, or split a list of values.
const dangerous = "\r\n;[]\"'\\ #"

// FuzzValidateTrunk shows that a trunk ValidateTrunk accepts holds none of the dangerous
// characters in any of its string fields, and that no message about a refused one depends on
// its password's characters.
func FuzzValidateTrunk(f *testing.F) {
	f.Add("sipgate", "sip.example.net", 5060, "udp", "register", "acct", "s3cret!pass", "192.0.2.0/24", "ulaw,alaw", "+4930123456", 10)
	f.Add("ip-trunk", "203.0.113.5", 5080, "tcp", "ip", "", "", "", "g722", "", 0)
	f.Add("a]\n[evil", "sip.example.net;x", 0, "tls", "digest", "a b", "pass word", "192.0.2.1/24", "opus", "12 34", -1)
	f.Add("a", "a", 1, "udp", "register", "u", "abcd#efgh", "::1", "ulaw,ulaw", "+", 10001)
	f.Add("b", "h", 65535, "udp", "register", "u\"", "abcdefgh\\", "10.0.0.0/8,10.0.0.0/8", "", "1", 1)
	f.Fuzz(func(t *testing.T, name, host string, port int, transport, auth, username, password, addresses, codecs, callerID string, channels int) {
		tr := switchboard.Trunk{Name: name, Host: host, Port: port, Transport: switchboard.TrunkTransport(transport),
			Auth: switchboard.TrunkAuth(auth), Username: username, Password: password, CallerID: callerID, ChannelLimit: channels}
		if addresses != "" {
			tr.Addresses = strings.Split(addresses, ",")
		}
		if codecs != "" {
			tr.Codecs = strings.Split(codecs, ",")
		}
		err := provisioning.ValidateTrunk(tr)
		if err != nil {
			if switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Fatalf("ValidateTrunk: %v, want invalid", err)
			}
			checkPasswordUnsaid(t, tr)
			return
		}
		fields := append([]string{tr.Name, tr.Host, string(tr.Transport), string(tr.Auth), tr.Username, tr.Password, tr.CallerID},
			append(tr.Addresses, tr.Codecs...)...)
		for _, s := range fields {
			if strings.ContainsAny(s, dangerous) {
				t.Fatalf("accepted a trunk with %q in a field: %+v", s, tr)
			}
		}
		if tr.Port < 1 || tr.Port > 65535 || tr.ChannelLimit < 0 || tr.ChannelLimit > switchboard.MaxTrunkChannels {
			t.Fatalf("accepted port %d, channel limit %d", tr.Port, tr.ChannelLimit)
		}
		if (tr.Auth == switchboard.AuthIP) != (tr.Username == "" && tr.Password == "") {
			t.Fatalf("accepted auth %s with username %q", tr.Auth, tr.Username)
		}
	})
}
