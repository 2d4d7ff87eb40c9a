package openstage

import (
	"strconv"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// group is items that belong together and go in the same WriteItems
// (openstage.md §5, fragmentation): the SIP identity, one key's items...
type group []item

func it(name, value string) item { return item{Name: name, Value: value} }

func itx(name string, index int, value string) item {
	return item{Name: name, Index: strconv.Itoa(index), Value: value}
}

func bool01(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// text makes a label or display name safe for an item: older phones do
// not understand &lt; &gt; &amp; (GS3, openstage.md §7), so '<' and '>'
// are dropped and '&' becomes '+'; cut to max runes.
func text(s string, max int) string {
	s = strings.NewReplacer("<", "", ">", "", "&", "+").Replace(s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max])
	}
	return s
}

// transport is sip-transport-user: 0 UDP, 1 TCP, 2 TLS (DevGuide p.108).
func transport(t string) string {
	switch strings.ToLower(t) {
	case "tcp":
		return "1"
	case "tls":
		return "2"
	}
	return "0"
}

// Function-key codes (openstage.md §8).
const (
	fkClear       = "0"
	fkSelectDial  = "1"
	fkDTMF        = "54"
	fkBLF         = "59"
	fkFeatureCall = "63"
)

// configGroups are the device's items without secrets, in the order they
// go out: identity and registrar, transport and proxy, time, locale,
// keys (one group per key), raw parameters.
func configGroups(d *vendors.Device) []group {
	s := d.Settings
	var gs []group
	if len(d.Lines) > 0 {
		l := d.Lines[0]
		user := l.AuthUser
		if user == "" {
			user = l.Extension
		}
		name := text(l.DisplayName, 24)
		if name == "" {
			name = text(d.Label, 24)
		}
		gs = append(gs, group{it("e164", l.Extension), it("sip-user-id", user), it("display-id-unicode", name),
			it("use-display-id", bool01(name != ""))})
	}
	if s.SIPServer != "" {
		port := s.SIPPort
		if port == 0 {
			port = 5060
			if strings.EqualFold(s.SIPTransport, "tls") {
				port = 5061
			}
		}
		p := strconv.Itoa(port)
		gs = append(gs, group{it("reg-addr", s.SIPServer), it("reg-port", p), it("registrar-addr", s.SIPServer),
			it("registrar-port", p), it("default-domain", s.SIPServer), it("server-type", "0")})
	}
	g := group{it("sip-transport-user", transport(s.SIPTransport))}
	if host, port := vendors.SplitHostPort(s.OutboundProxy); host != "" {
		if port == 0 {
			port = 5060
		}
		g = append(g, it("outbound-proxy-user", "true"), it("sgnl-gateway-addr-user", host),
			it("sgnl-gateway-port-user", strconv.Itoa(port)))
	} else {
		g = append(g, it("outbound-proxy-user", "false"))
	}
	gs = append(gs, g)
	if s.NTPServer != "" || d.Zone.Name != "" {
		g := group{}
		if s.NTPServer != "" {
			g = append(g, it("sntp-addr", s.NTPServer))
		}
		if d.Zone.Name != "" {
			g = append(g, it("sntp-tz-offset", strconv.Itoa(d.Zone.Offset/60)))
			// daylight-save is a flag (DST in force now, set by hand);
			// the amount is daylight-save-minutes (GS3, GS5 and a
			// deployment's settings all write it so; README.md). With
			// DST the phone decides the flag itself (auto), so it is
			// not written: the driver has no clock to say it.
			if d.Zone.DST != nil {
				g = append(g, it("daylight-save-minutes", strconv.Itoa(d.Zone.DST.Save/60)), it("auto-daylight-save", "true"))
			} else {
				g = append(g, it("daylight-save", "false"), it("auto-daylight-save", "false"))
			}
		}
		gs = append(gs, g)
	}
	if s.Language != "" || s.ToneScheme != "" {
		g := group{}
		if s.Language != "" {
			g = append(g, it("language-iso", s.Language))
		}
		if s.ToneScheme != "" {
			g = append(g, it("country-iso", s.ToneScheme))
		}
		gs = append(gs, g)
	}
	for _, k := range d.Keys {
		if g := keyGroup(k); len(g) > 0 {
			gs = append(gs, g)
		}
	}
	if c := blfCode(d.Keys); c != "" {
		gs = append(gs, group{it("blf-code", c)})
	}
	for _, p := range d.Params {
		name, idx := p.Name, ""
		if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
			name, idx = p.Name[:i], p.Name[i+1:len(p.Name)-1]
		}
		gs = append(gs, group{{Name: name, Index: idx, Value: p.Value}})
	}
	return gs
}

// blfCode is blf-code, the phone's pickup prefix for its BLF keys
// (openstage.md §7): one per phone, so the first BLF key's pickup code;
// "" when no BLF key has one (nothing is written, the phone keeps its
// own).
func blfCode(keys []vendors.Key) string {
	for _, k := range keys {
		if c := strings.TrimSpace(k.PickupCode); k.Type == vendors.KeyBLF && c != "" {
			return c
		}
	}
	return ""
}

// keyGroup is one key's items at its index (1-9, 301-312, 401-412).
func keyGroup(k vendors.Key) group {
	i := keyIndex(k)
	if k.Position < 1 || (k.Module == 0 && k.Position > phoneKeyMax) || k.Module > moduleMax || k.Position > moduleKeys {
		return nil
	}
	label := text(k.Label, 12)
	g := group{}
	switch k.Type {
	case vendors.KeyBLF:
		g = append(g, itx("function-key-def", i, fkBLF), itx("stimulus-led-control-uri", i, k.Value))
	case vendors.KeySpeedDial:
		g = append(g, itx("function-key-def", i, fkSelectDial), itx("select-dial", i, k.Value))
	case vendors.KeyDTMF:
		g = append(g, itx("function-key-def", i, fkDTMF), itx("stimulus-DTMF-sequence", i, k.Value))
	case vendors.KeyURL:
		g = append(g, itx("function-key-def", i, fkFeatureCall), itx("send-url-address", i, k.Value))
	case vendors.KeyNone:
		return group{itx("function-key-def", i, fkClear)}
	default:
		return nil
	}
	return append(g, itx("key-label-unicode", i, label))
}

// secretItems are the items that carry secrets: the SIP password (with
// the user id it belongs to) and the phone's admin password (six digits;
// openstage.md §7). Empty when d has none.
func secretItems(d *vendors.Device, max int) []item {
	var out []item
	if len(d.Lines) > 0 && d.Lines[0].Password != "" {
		l := d.Lines[0]
		user := l.AuthUser
		if user == "" {
			user = l.Extension
		}
		out = append(out, it("sip-user-id", user), it("sip-pwd", l.Password))
	}
	if p := d.MenuPassword; len(p) == 6 && strings.Trim(p, "0123456789") == "" {
		out = append(out, it("admin-pwd", p))
	}
	// They go in one message (one commit of the window): with a small
	// maxItems the user id (already sent) goes first, then admin-pwd.
	for max > 0 && len(out) > max {
		if out[0].Name == "sip-user-id" {
			out = out[1:]
		} else {
			out = out[:max]
		}
	}
	return out
}

// fragments packs groups into messages of at most max items (0:
// unlimited), keeping each group whole unless it alone is larger.
func fragments(gs []group, max int) [][]item {
	var out [][]item
	var cur []item
	for _, g := range gs {
		if max > 0 && len(cur) > 0 && len(cur)+len(g) > max {
			out = append(out, cur)
			cur = nil
		}
		for _, x := range g {
			if max > 0 && len(cur) == max {
				out = append(out, cur)
				cur = nil
			}
			cur = append(cur, x)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
