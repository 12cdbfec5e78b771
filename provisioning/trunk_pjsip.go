package provisioning

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/switchboard-pbx/switchboard"
)

// The configuration classes of a trunk's objects, as ARI's push configuration names them (PUT
// /asterisk/config/dynamic/{class}/{type}/{id}): all are res_pjsip's sorcery instance, even the
// registration and identify that other modules register there (with their own sections in
// asterisk/sorcery.conf).
const (
	ModulePJSIP        = "res_pjsip"
	ModuleRegistration = ModulePJSIP
	ModuleIdentify     = ModulePJSIP
)

// TrunkContext is the dialplan context calls from trunks arrive in (asterisk/extensions.conf).
const TrunkContext = "switchboard-trunk-in"

// ConfigObject is one object of Asterisk's push configuration.
type ConfigObject struct {
	Module, Type, ID string
	Fields           []Field
	// Replace says that Asterisk would merge the fields into an object it holds (lists such as
	// an identify's match), so that a changed object must be deleted before it is pushed.
	Replace bool
}

// Key names the object among all others.
func (o ConfigObject) Key() string { return o.Module + "/" + o.Type + "/" + o.ID }

// TrunkEndpoint is the name of trunk's endpoint (and of its auth, registration and identify),
// as call control dials it (PJSIP/number@trunk-name).
func TrunkEndpoint(name string) string { return "trunk-" + name }

// TrunkName is the trunk an endpoint belongs to ("" when it is no trunk's).
func TrunkName(endpoint string) string {
	n, ok := strings.CutPrefix(endpoint, "trunk-")
	if !ok {
		return ""
	}
	return n
}

// TrunkObjects returns the objects Asterisk needs for trunk t (valid, see ValidateTrunk), in
// the order they must be created: auth and AOR before the endpoint naming them, the
// registration and identify after it. The objects are built from Asterisk's defaults, not from
// the users' templates (no realm, no registration of phones, no NAT handling for phones).
//
// An AOR's contact is a list that a push would add to, so the AOR is named after its contact
// (trunk-name-hash): a changed host or port makes a new AOR, which the endpoint then names.
// The registration and identify are replaced (deleted, then pushed) when they change.
func TrunkObjects(t switchboard.Trunk) []ConfigObject {
	id := TrunkEndpoint(t.Name)
	uri := fmt.Sprintf("sip:%s:%d", t.Host, t.Port)
	if t.Transport == switchboard.TransportTCP {
		uri += ";transport=tcp"
	}
	h := fnv.New32a()
	h.Write([]byte(uri))
	aor := id + "-" + strconv.FormatUint(uint64(h.Sum32()), 36)
	transport := "transport-" + string(t.Transport)
	register := t.Auth == switchboard.AuthRegister
	var objs []ConfigObject
	outboundAuth := ""
	if register {
		outboundAuth = id
		objs = append(objs, ConfigObject{Module: ModulePJSIP, Type: "auth", ID: id, Fields: []Field{
			{"auth_type", "userpass"},
			{"username", t.Username},
			{"password", t.Password},
		}})
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	objs = append(objs,
		ConfigObject{Module: ModulePJSIP, Type: "aor", ID: aor, Fields: []Field{
			{"contact", uri},
			{"qualify_frequency", "15"},
			{"qualify_timeout", "3.0"},
		}},
		ConfigObject{Module: ModulePJSIP, Type: "endpoint", ID: id, Fields: []Field{
			{"transport", transport},
			{"context", TrunkContext},
			{"disallow", "all"},
			{"allow", strings.Join(t.Codecs, ",")},
			{"aors", aor},
			{"outbound_auth", outboundAuth},
			// The From header carries the caller ID sent (see routing.OutboundCallerID); the
			// provider knows the account by the digest username it challenges for.
			{"from_domain", t.Host},
			// Only the provider's addresses identify a call as the trunk's: never a username
			// someone puts in their From header.
			{"identify_by", "ip"},
			{"direct_media", "no"},
			{"rtp_symmetric", "yes"},
			{"force_rport", "yes"},
			{"rewrite_contact", "no"},
			{"dtmf_mode", "rfc4733"},
			{"send_pai", yes(t.SendPAI)},
			{"send_rpid", "no"},
			{"trust_id_inbound", "no"},
			{"trust_id_outbound", "yes"},
			{"allow_subscribe", "no"},
			{"language", "en"},
		}},
	)
	if register {
		objs = append(objs, ConfigObject{Module: ModuleRegistration, Type: "registration", ID: id, Replace: true, Fields: []Field{
			{"transport", transport},
			{"server_uri", uri},
			{"client_uri", fmt.Sprintf("sip:%s@%s:%d", t.Username, t.Host, t.Port)},
			{"contact_user", t.Username},
			{"outbound_auth", id},
			{"expiration", "300"},
			// Keep trying, however long the provider is away or refuses us: the state says so.
			{"retry_interval", "10"},
			{"forbidden_retry_interval", "30"},
			{"fatal_retry_interval", "30"},
			{"auth_rejection_permanent", "no"},
			{"max_retries", "1000000"},
			{"max_random_initial_delay", "0"},
		}})
	}
	ident := ConfigObject{Module: ModuleIdentify, Type: "identify", ID: id, Replace: true, Fields: []Field{{"endpoint", id}}}
	for _, a := range append([]string{t.Host}, t.Addresses...) {
		ident.Fields = append(ident.Fields, Field{"match", a})
	}
	return append(objs, ident)
}

// trunkObjectKeys are the objects a trunk of that name may have had (for removing a deleted
// one): every type but the AOR, whose name depends on its contact.
func trunkObjectKeys(name string) []ConfigObject {
	id := TrunkEndpoint(name)
	return []ConfigObject{
		{Module: ModuleRegistration, Type: "registration", ID: id},
		{Module: ModuleIdentify, Type: "identify", ID: id},
		{Module: ModulePJSIP, Type: "endpoint", ID: id},
		{Module: ModulePJSIP, Type: "auth", ID: id},
	}
}
