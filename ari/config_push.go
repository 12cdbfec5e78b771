package ari

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

var _ provisioning.Asterisk = (*Client)(nil)

// The probe objects of asterisk/pjsip.conf: a templated one and a bare one of each type.
const (
	probeProfile = "switchboard-profile"
	probeBare    = "switchboard-bare"
)

// pjsipProfiles caches, per object type, the fields the templates of asterisk/pjsip.conf add to
// Asterisk's defaults. They are read once per event connection (Asterisk may have restarted
// with other templates since) and forgotten when it drops.
type pjsipProfiles struct {
	mu     sync.Mutex
	fields map[string][]provisioning.Field
}

func (p *pjsipProfiles) reset() {
	p.mu.Lock()
	p.fields = nil
	p.mu.Unlock()
}

// PushPJSIP creates or replaces objects in the running Asterisk (ARI push configuration: PUT
// /asterisk/config/dynamic/res_pjsip/{type}/{id}). Asterisk builds a new object from its
// defaults, not from a template, so each object is sent with its template's fields (read from
// the probe objects) followed by its own. Asterisk's sorcery.conf puts pushed objects in front
// of the files' (see asterisk/sorcery.conf).
//
// An AOR is only pushed when Asterisk has none of that name, or holds a different one with no
// phone registered: Asterisk changes an existing object by copying all its fields, and an
// AOR's fields list its registered contacts, which the copy would turn into permanent contacts
// (a phone that moves or leaves would stay behind, and be rung twice). A changed max_devices of
// a user with registered phones therefore waits for Asterisk's next start, which reads the
// files.
func (c *Client) PushPJSIP(ctx context.Context, objs []provisioning.PJSIPObject) error {
	profiles, err := c.profiles.get(ctx, c)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if o.Type == "aor" {
			push, err := c.aorNeedsPush(ctx, o)
			if err != nil {
				return err
			}
			if !push {
				continue
			}
		}
		own := make(map[string]bool, len(o.Fields))
		for _, f := range o.Fields {
			own[f.Name] = true
		}
		var fields []provisioning.Field
		for _, f := range profiles[o.Type] {
			if !own[f.Name] {
				fields = append(fields, f)
			}
		}
		fields = append(fields, o.Fields...)
		if err := c.PutObject(ctx, provisioning.ConfigObject{Module: provisioning.ModulePJSIP, Type: o.Type, ID: o.ID,
			Fields: fields}); err != nil {
			return err
		}
	}
	return nil
}

// aorNeedsPush tells whether an AOR can and must be pushed (see PushPJSIP).
func (c *Client) aorNeedsPush(ctx context.Context, o provisioning.PJSIPObject) (bool, error) {
	held, err := c.dynamicObject(ctx, "aor", o.ID)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		return true, nil
	case err != nil:
		return false, err
	}
	same := true
	for _, f := range o.Fields {
		if strings.Join(held[f.Name], ",") != f.Value {
			same = false
		}
	}
	if same {
		return false, nil
	}
	if strings.Join(held["contact"], "") != "" {
		c.logger.Info("AOR change waits for Asterisk's restart: phones are registered to it", "aor", o.ID)
		return false, nil
	}
	return true, nil
}

// DropRegistrations removes every contact of an AOR: the phones registered for a deleted user.
// Contact objects are named "<aor>;@<md5 of the contact URI>".
func (c *Client) DropRegistrations(ctx context.Context, aor string) error {
	obj, err := c.dynamicObject(ctx, "aor", aor)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	for _, uri := range strings.Split(strings.Join(obj["contact"], ","), ",") {
		if uri = strings.TrimSpace(uri); uri == "" {
			continue
		}
		sum := md5.Sum([]byte(uri))
		id := aor + ";@" + hex.EncodeToString(sum[:])
		err := c.request(ctx, "drop contact of "+aor, "DELETE", "/asterisk/config/dynamic/res_pjsip/contact/"+pathID(id), nil, nil, nil)
		if err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			return err
		}
	}
	return nil
}

// ConfigVersionGlobal is the dialplan global that holds the version of the configuration the
// running Asterisk has: the generated extensions.conf sets it (what Asterisk started from), the
// control plane raises it after each push.
const ConfigVersionGlobal = "SWITCHBOARD_CONFIG_VERSION"

// ConfigVersion reads the version of the configuration Asterisk holds; 0 when it has none.
func (c *Client) ConfigVersion(ctx context.Context) (int64, error) {
	var v struct {
		Value string `json:"value"`
	}
	if err := c.request(ctx, "read configuration version", "GET", "/asterisk/variable",
		url.Values{"variable": {ConfigVersionGlobal}}, nil, &v); err != nil {
		return 0, err
	}
	if v.Value == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil || n < 0 {
		return 0, switchboard.Errorf(switchboard.EINTERNAL, "configuration version %q is not a number", v.Value)
	}
	return n, nil
}

// SetConfigVersion records the version of the configuration Asterisk now holds.
func (c *Client) SetConfigVersion(ctx context.Context, v int64) error {
	return c.SetGlobal(ctx, ConfigVersionGlobal, strconv.FormatInt(v, 10))
}

type configTuple struct {
	Attribute string `json:"attribute"`
	Value     string `json:"value"`
}

// get returns the cached profiles, reading them first if needed.
func (p *pjsipProfiles) get(ctx context.Context, c *Client) (map[string][]provisioning.Field, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fields != nil {
		return p.fields, nil
	}
	fields := map[string][]provisioning.Field{}
	for _, kind := range []string{"auth", "aor", "endpoint"} {
		profile, err := c.dynamicObject(ctx, kind, probeProfile)
		if err != nil {
			return nil, fmt.Errorf("read the %s template (probe %s): %w", kind, probeProfile, err)
		}
		bare, err := c.dynamicObject(ctx, kind, probeBare)
		if err != nil {
			return nil, fmt.Errorf("read the %s defaults (probe %s): %w", kind, probeBare, err)
		}
		fields[kind] = templateFields(profile, bare)
	}
	p.fields = fields
	return fields, nil
}

// templateFields returns the fields in which profile differs from bare, as values Asterisk
// accepts back. Codec lists read as "(ulaw|alaw)" and are written as disallow=all, allow=ulaw,alaw.
func templateFields(profile, bare map[string][]string) []provisioning.Field {
	var out []provisioning.Field
	for _, name := range slices.Sorted(maps.Keys(profile)) {
		v := strings.Join(profile[name], ",")
		if v == strings.Join(bare[name], ",") {
			continue
		}
		if name == "allow" {
			codecs := strings.Trim(v, "()")
			if codecs == "nothing" {
				codecs = ""
			}
			out = append(out, provisioning.Field{Name: "disallow", Value: "all"},
				provisioning.Field{Name: "allow", Value: strings.ReplaceAll(codecs, "|", ",")})
			continue
		}
		out = append(out, provisioning.Field{Name: name, Value: v})
	}
	return out
}

// reloadTimeout bounds a reload of res_pjsip: it reads every user's objects (half a minute at
// 50,000 users on two cores).
const reloadTimeout = 3 * time.Minute

// ReloadPJSIP reloads res_pjsip (PUT /asterisk/modules/res_pjsip.so), which reads its objects
// from the generated files again and makes them known to its qualify and endpoint-state
// tracking in one pass. The Syncer asks for it only for a bulk of users (see
// provisioning.Syncer.BulkUsers), never for one user's change.
func (c *Client) ReloadPJSIP(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "PUT", c.base.String()+"/asterisk/modules/res_pjsip.so", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	slow := &http.Client{Transport: &countingTransport{inner: newTransport(reloadTimeout), n: &c.requests}}
	resp, err := slow.Do(req)
	if err != nil {
		return translate("reload res_pjsip", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return translate("reload res_pjsip", &statusError{code: resp.StatusCode, err: fmt.Errorf("HTTP %d", resp.StatusCode)})
	}
	return nil
}

// HasAOR tells whether Asterisk holds an AOR of that name (from its files or pushed).
func (c *Client) HasAOR(ctx context.Context, id string) (bool, error) {
	_, err := c.dynamicObject(ctx, "aor", id)
	switch {
	case err == nil:
		return true, nil
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		return false, nil
	default:
		return false, err
	}
}
