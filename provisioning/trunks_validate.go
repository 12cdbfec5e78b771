package provisioning

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/switchboard-pbx/switchboard"
)

// Limits of trunks, outbound routes and inbound numbers. A trunk's fields are written into
// Asterisk's PJSIP configuration and a route's into the dial plan, so, as for users, only
// values that cannot change those files' syntax are accepted.
const (
	MaxTrunkNameLength    = 32
	MaxHostLength         = 253
	MaxUsernameLength     = 64
	MinTrunkPassword      = 8
	MaxTrunkPassword      = 128
	MaxTrunkAddresses     = 16
	MaxTrunkCodecs        = 4
	MaxRoutePosition      = 100000
	RoutePositionStep     = 10 // a new route goes this far after the last one
	MaxRoutePatterns      = 20
	MaxPatternPrefix      = 8
	MaxPatternMatch       = 32
	MaxPatternPrepend     = 8
	MaxRouteTrunks        = 8
	MaxRouteUsers         = 1000
	MinExternalNumber     = 2
	MaxExternalNumber     = 20
	DefaultTrunkTransport = switchboard.TransportUDP
	DefaultTrunkAuth      = switchboard.AuthRegister
)

// DefaultTrunkCodecs are a new trunk's codecs: G.711 in both laws, which every provider takes.
func DefaultTrunkCodecs() []string { return []string{"ulaw", "alaw"} }

// trunkPasswordSymbols are the punctuation characters a trunk's password may hold besides
// ASCII letters and digits: none of them means anything to pjsip.conf (no ; # [ ] " ' \ or
// space), and together they leave room for a provider's generated passwords.
const trunkPasswordSymbols = "!%*+,./:=?@^_~-"

// ValidateTrunkName accepts 1 to 32 lower-case ASCII letters, digits and hyphens, starting with
// a letter or a digit: the name makes the trunk's Asterisk objects (trunk-<name>).
func ValidateTrunkName(name string) error {
	if !isObjectName(name) {
		return switchboard.Errorf(switchboard.EINVALID, "trunk name must be 1 to %d of a-z, 0-9 and -, starting with a letter or digit", MaxTrunkNameLength)
	}
	return nil
}

// ValidateRouteName accepts what ValidateTrunkName does.
func ValidateRouteName(name string) error {
	if !isObjectName(name) {
		return switchboard.Errorf(switchboard.EINVALID, "route name must be 1 to %d of a-z, 0-9 and -, starting with a letter or digit", MaxTrunkNameLength)
	}
	return nil
}

// isObjectName reports whether s matches ^[a-z0-9][a-z0-9-]{0,31}$.
func isObjectName(s string) bool {
	if len(s) == 0 || len(s) > MaxTrunkNameLength || s[0] == '-' {
		return false
	}
	return onlyBytes(s, func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' })
}

// onlyBytes reports whether every byte of s is one ok accepts. Non-ASCII input fails on its
// first byte, which no ok below accepts.
func onlyBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// ValidateTrunkHost accepts a host name or an IPv4 address: ASCII letters, digits, dots and
// hyphens, at most 253 of them, starting with a letter or a digit and ending with neither a dot
// nor a hyphen, without empty labels. IPv6 addresses are not supported yet.
func ValidateTrunkHost(host string) error {
	ok := len(host) > 0 && len(host) <= MaxHostLength && isAlnum(host[0]) &&
		host[len(host)-1] != '.' && host[len(host)-1] != '-' && !strings.Contains(host, "..") &&
		onlyBytes(host, func(c byte) bool { return isAlnum(c) || c == '.' || c == '-' })
	if !ok {
		return switchboard.Errorf(switchboard.EINVALID, "host must be a host name or an IPv4 address (letters, digits, dots and hyphens; IPv6 is not supported)")
	}
	return nil
}

// ValidateTrunkPort accepts 1 to 65535.
func ValidateTrunkPort(port int) error {
	return validateRange("port", port, 1, 65535)
}

// ValidateTrunkTransport accepts udp and tcp.
func ValidateTrunkTransport(t switchboard.TrunkTransport) error {
	switch t {
	case switchboard.TransportUDP, switchboard.TransportTCP:
		return nil
	}
	return switchboard.Errorf(switchboard.EINVALID, "transport must be %s or %s", switchboard.TransportUDP, switchboard.TransportTCP)
}

// ValidateTrunkAuth accepts register and ip.
func ValidateTrunkAuth(a switchboard.TrunkAuth) error {
	switch a {
	case switchboard.AuthRegister, switchboard.AuthIP:
		return nil
	}
	return switchboard.Errorf(switchboard.EINVALID, "auth must be %s or %s", switchboard.AuthRegister, switchboard.AuthIP)
}

// ValidateTrunkUsername accepts 1 to 64 ASCII letters, digits and . _ + -.
func ValidateTrunkUsername(username string) error {
	if len(username) == 0 || len(username) > MaxUsernameLength ||
		!onlyBytes(username, func(c byte) bool { return isAlnum(c) || strings.IndexByte("._+-", c) >= 0 }) {
		return switchboard.Errorf(switchboard.EINVALID, "username must be 1 to %d of letters, digits and . _ + -", MaxUsernameLength)
	}
	return nil
}

// ValidateTrunkPassword accepts 8 to 128 ASCII letters, digits and the symbols of
// trunkPasswordSymbols. Its message never holds the password, nor a character of it.
func ValidateTrunkPassword(password string) error {
	if len(password) < MinTrunkPassword || len(password) > MaxTrunkPassword ||
		!onlyBytes(password, func(c byte) bool { return isAlnum(c) || strings.IndexByte(trunkPasswordSymbols, c) >= 0 }) {
		return switchboard.Errorf(switchboard.EINVALID, "password must be %d to %d of letters, digits and %s",
			MinTrunkPassword, MaxTrunkPassword, trunkPasswordSymbols)
	}
	return nil
}

// ValidateTrunkAddresses accepts up to 16 distinct IPv4 addresses or networks in CIDR
// notation (with no host bits set: 192.0.2.0/24, not 192.0.2.1/24), from which inbound calls
// may come besides the trunk's host.
func ValidateTrunkAddresses(addresses []string) error {
	if len(addresses) > MaxTrunkAddresses {
		return switchboard.Errorf(switchboard.EINVALID, "addresses must list at most %d networks", MaxTrunkAddresses)
	}
	seen := make(map[netip.Prefix]bool, len(addresses))
	for _, a := range addresses {
		p, err := parseIPv4Network(a)
		if err != nil {
			return err
		}
		if seen[p] {
			return switchboard.Errorf(switchboard.EINVALID, "address %s is listed twice", p)
		}
		seen[p] = true
	}
	return nil
}

// parseIPv4Network reads one of a trunk's addresses: an address is the network of it alone.
func parseIPv4Network(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			// %q: the value is the caller's and may hold anything; quoted, it cannot break the message.
			return netip.Prefix{}, switchboard.Errorf(switchboard.EINVALID, "address %q must be an IPv4 address or network (192.0.2.0/24)", s)
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, switchboard.Errorf(switchboard.EINVALID, "address %q must be an IPv4 address or network (192.0.2.0/24)", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, switchboard.Errorf(switchboard.EINVALID, "address %s has host bits set: the network is %s", p, p.Masked())
	}
	return p, nil
}

// ValidateTrunkCodecs accepts 1 to 4 distinct codecs of switchboard.TrunkCodecs, in order of
// preference.
func ValidateTrunkCodecs(codecs []string) error {
	if len(codecs) == 0 || len(codecs) > MaxTrunkCodecs {
		return switchboard.Errorf(switchboard.EINVALID, "codecs must list 1 to %d of %s", MaxTrunkCodecs, strings.Join(switchboard.TrunkCodecs, ", "))
	}
	for i, c := range codecs {
		if !slices.Contains(switchboard.TrunkCodecs, c) {
			return switchboard.Errorf(switchboard.EINVALID, "codec %q must be one of %s", c, strings.Join(switchboard.TrunkCodecs, ", "))
		}
		if slices.Contains(codecs[:i], c) {
			return switchboard.Errorf(switchboard.EINVALID, "codec %s is listed twice", c)
		}
	}
	return nil
}

// isExternalNumber reports whether s is a number of the outside world as sent and received
// over trunks: 2 to 20 ASCII digits with an optional leading +.
func isExternalNumber(s string) bool {
	digits := strings.TrimPrefix(s, "+")
	return len(digits) >= MinExternalNumber && len(digits) <= MaxExternalNumber && onlyBytes(digits, isDigit)
}

// ValidOutboundCallerID accepts "" (none of its own) or the number a trunk, a route or a user
// sends as the caller's to the outside world: 2 to 20 digits with an optional leading +.
func ValidOutboundCallerID(id string) error {
	if id != "" && !isExternalNumber(id) {
		return switchboard.Errorf(switchboard.EINVALID, "caller ID must be 2 to 20 digits with an optional leading +")
	}
	return nil
}

// validateCallerID is ValidOutboundCallerID with the message naming field.
func validateCallerID(field, id string) error {
	if ValidOutboundCallerID(id) != nil {
		return switchboard.Errorf(switchboard.EINVALID, "%s must be 2 to 20 digits with an optional leading +", field)
	}
	return nil
}

// ValidateTrunkChannels accepts 0 (no limit) to switchboard.MaxTrunkChannels.
func ValidateTrunkChannels(limit int) error {
	return validateRange("channel_limit", limit, 0, switchboard.MaxTrunkChannels)
}

// ValidateTrunk checks every field of a trunk as stored. A trunk that authenticates by
// registering has an account (username and password); one known by its address has none. No
// message holds the password.
func ValidateTrunk(t switchboard.Trunk) error {
	if err := ValidateTrunkName(t.Name); err != nil {
		return err
	}
	if err := ValidateTrunkHost(t.Host); err != nil {
		return err
	}
	if err := ValidateTrunkPort(t.Port); err != nil {
		return err
	}
	if err := ValidateTrunkTransport(t.Transport); err != nil {
		return err
	}
	if err := ValidateTrunkAuth(t.Auth); err != nil {
		return err
	}
	switch t.Auth {
	case switchboard.AuthRegister:
		if err := ValidateTrunkUsername(t.Username); err != nil {
			return err
		}
		if err := ValidateTrunkPassword(t.Password); err != nil {
			return err
		}
	case switchboard.AuthIP:
		if t.Username != "" || t.Password != "" {
			return switchboard.Errorf(switchboard.EINVALID, "auth ip takes no username or password")
		}
	}
	if err := ValidateTrunkAddresses(t.Addresses); err != nil {
		return err
	}
	if err := ValidateTrunkCodecs(t.Codecs); err != nil {
		return err
	}
	if err := validateCallerID("caller_id", t.CallerID); err != nil {
		return err
	}
	return ValidateTrunkChannels(t.ChannelLimit)
}

// ValidateRoutePosition accepts 0 to MaxRoutePosition.
func ValidateRoutePosition(position int) error {
	return validateRange("position", position, 0, MaxRoutePosition)
}

// ValidateDialPattern checks one way of dialling a route's numbers: a prefix of up to 8 of
// 0-9 * #; a match of up to 32 characters made of digits, upper-case X, Z and N, sets such as
// [1-5] or [0135-7], with an optional leading + and trailing .; a prepend of up to 8 digits with
// an optional leading +. Nothing else can reach the dial plan: Asterisk's pattern syntax is
// limited to what routes need, without ! or - outside a set.
func ValidateDialPattern(p switchboard.DialPattern) error {
	if len(p.Prefix) > MaxPatternPrefix || !onlyBytes(p.Prefix, func(c byte) bool { return isDigit(c) || c == '*' || c == '#' }) {
		return switchboard.Errorf(switchboard.EINVALID, "pattern prefix %q must be up to %d of 0-9, * and #", p.Prefix, MaxPatternPrefix)
	}
	if len(p.Match) > MaxPatternMatch || !isMatch(p.Match) {
		return switchboard.Errorf(switchboard.EINVALID,
			"pattern match %q must be up to %d of digits, X, Z, N and sets such as [1-5], with an optional leading + and trailing .",
			p.Match, MaxPatternMatch)
	}
	digits := strings.TrimPrefix(p.Prepend, "+")
	if len(digits) > MaxPatternPrepend || !onlyBytes(digits, isDigit) {
		return switchboard.Errorf(switchboard.EINVALID, "pattern prepend %q must be up to %d digits with an optional leading +", p.Prepend, MaxPatternPrepend)
	}
	return nil
}

// isMatch reports whether m matches ^\+?([0-9XZN]|\[[0-9](-[0-9])?([0-9](-[0-9])?)*\])+\.?$.
func isMatch(m string) bool {
	m = strings.TrimPrefix(m, "+")
	m = strings.TrimSuffix(m, ".")
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		switch c := m[i]; {
		case isDigit(c), c == 'X', c == 'Z', c == 'N':
		case c == '[':
			// A set: one or more of a digit or a range of digits, then ].
			i++
			n := 0
			for i < len(m) && isDigit(m[i]) {
				if i+2 < len(m) && m[i+1] == '-' && isDigit(m[i+2]) {
					i += 2
				}
				i++
				n++
			}
			if n == 0 || i >= len(m) || m[i] != ']' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// ValidateRoute checks every field of a route as stored: a name, a position, 1 to 20 distinct
// dial patterns (their match upper-case, as RouteService stores it), 1 to 8 distinct trunk
// names, up to 1000 distinct users' extensions and a caller ID. Whether the trunks and the users
// exist is the store's to say.
func ValidateRoute(r switchboard.OutboundRoute) error {
	if err := ValidateRouteName(r.Name); err != nil {
		return err
	}
	if err := ValidateRoutePosition(r.Position); err != nil {
		return err
	}
	if len(r.Patterns) == 0 || len(r.Patterns) > MaxRoutePatterns {
		return switchboard.Errorf(switchboard.EINVALID, "patterns must list 1 to %d dial patterns", MaxRoutePatterns)
	}
	for i, p := range r.Patterns {
		if err := ValidateDialPattern(p); err != nil {
			return err
		}
		for _, q := range r.Patterns[:i] {
			if p.Prefix == q.Prefix && p.Match == q.Match {
				return switchboard.Errorf(switchboard.EINVALID, "pattern %s|%s is listed twice", p.Prefix, p.Match)
			}
		}
	}
	if len(r.Trunks) == 0 || len(r.Trunks) > MaxRouteTrunks {
		return switchboard.Errorf(switchboard.EINVALID, "trunks must list 1 to %d trunks", MaxRouteTrunks)
	}
	for i, t := range r.Trunks {
		if !isObjectName(t) {
			return switchboard.Errorf(switchboard.EINVALID, "trunk %q must be a trunk's name", t)
		}
		if slices.Contains(r.Trunks[:i], t) {
			return switchboard.Errorf(switchboard.EINVALID, "trunk %s is listed twice", t)
		}
	}
	if len(r.Users) > MaxRouteUsers {
		return switchboard.Errorf(switchboard.EINVALID, "users must list at most %d extensions", MaxRouteUsers)
	}
	seen := make(map[string]bool, len(r.Users))
	for _, u := range r.Users {
		if ValidateExtension(u) != nil {
			return switchboard.Errorf(switchboard.EINVALID, "user %q must be an extension of 2 to 6 digits", u)
		}
		if seen[u] {
			return switchboard.Errorf(switchboard.EINVALID, "user %s is listed twice", u)
		}
		seen[u] = true
	}
	return validateCallerID("caller_id", r.CallerID)
}

// ValidateDIDNumber accepts an inbound number as providers send it: 2 to 20 digits with an
// optional leading +.
func ValidateDIDNumber(number string) error {
	if !isExternalNumber(number) {
		return switchboard.Errorf(switchboard.EINVALID, "inbound number must be 2 to 20 digits with an optional leading +")
	}
	return nil
}

// ValidateInboundName accepts "" or a name as ValidateName does.
func ValidateInboundName(name string) error {
	if name == "" {
		return nil
	}
	return ValidateName(name)
}

// ValidateInboundDestination checks where calls to an inbound number go: hanging up needs no
// number; a mailbox and a number of the plan need one of 2 to 6 digits. Whether anybody has it
// is InboundNumberService's to check.
func ValidateInboundDestination(d switchboard.GroupDestination) error {
	switch d.Kind {
	case switchboard.DestinationHangup:
		if d.Number != "" {
			return switchboard.Errorf(switchboard.EINVALID, "destination: hangup takes no number")
		}
	case switchboard.DestinationVoicemail, switchboard.DestinationNumber:
		if ValidateExtension(d.Number) != nil {
			return switchboard.Errorf(switchboard.EINVALID, "destination: %s needs a number of 2 to 6 digits", d.Kind)
		}
	default:
		return switchboard.Errorf(switchboard.EINVALID, "destination.kind must be %s, %s or %s",
			switchboard.DestinationHangup, switchboard.DestinationVoicemail, switchboard.DestinationNumber)
	}
	return nil
}

// ValidateInboundNumber checks every field of an inbound number as stored. Whether its trunk
// exists is the store's to say.
func ValidateInboundNumber(n switchboard.InboundNumber) error {
	if err := ValidateDIDNumber(n.Number); err != nil {
		return err
	}
	if err := ValidateInboundName(n.Name); err != nil {
		return err
	}
	if n.Trunk != "" && !isObjectName(n.Trunk) {
		return switchboard.Errorf(switchboard.EINVALID, "trunk %q must be a trunk's name", n.Trunk)
	}
	return ValidateInboundDestination(n.Destination)
}
