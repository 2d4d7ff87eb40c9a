package snom

import (
	"strings"
	"testing"
)

// TestUAQuickRefusal: the quick refusal of User-Agents (mayBeSnom) changes
// no answer: for each User-Agent (the tests' own, other vendors', case and
// Unicode-fold variants), parseUA answers as the expressions alone do.
func TestUAQuickRefusal(t *testing.T) {
	d := New(nil)
	uas := []string{
		"Yealink SIP-T54W 96.86.0.100 80:5e:c0:11:22:33", "Yealink SIP-T46S 66.86.0.15 001565aabbcc",
		"Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)",
		"Mozilla/4.0 (compatible; snom lid 3605)", "snomM700/V0500B0130 (MAC=000413A1B2C3; SER=1234; HW=2)",
		"Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)", "  mozilla/4.0 (compatible;   SNOMd120-SIP   10.1.54.13   000413aabb01 )",
		"Mozilla/4.0 (compatible; D865-SIP 10.1.100.1 000413AABB02)", "Mozilla/4.0 (compatible; d865-sIp 10.1.100.1 000413AABB02)",
		"Gigaset P820 IP PRO/10.1.33.33;000413E51234", "Cisco/SPA504G-7.6.2", "OpenStage 40 V3", "",
		"Mozilla/4.0 (compatible; ſnomD785-SIP 10.1.33.33 000413922D24)", "ſnom lid", "D785-ſIP 10.1.1.1",
		"SNOM", "-SIP", "sno m", "snoM", "xx-Sip", "-si p",
	}
	for _, ua := range uas {
		trimmed := strings.TrimSpace(strings.Trim(strings.TrimSpace(ua), `"`))
		want := d.parseSnomUA(trimmed)
		if trimmed == "" || gigasetWordRe.MatchString(trimmed) {
			want = uaInfo{}
		}
		if got := d.parseUA(ua); got != want {
			t.Errorf("%q: %+v, the expressions alone %+v", ua, got, want)
		}
	}
	if mayBeSnom("Yealink SIP-T54W 96.86.0.100 80:5e:c0:11:22:33") {
		t.Error("a Yealink User-Agent goes through the Snom expressions")
	}
}

// BenchmarkUAOtherVendor: the Snom driver's look at another vendor's
// User-Agent, refused quickly (parseUA) or through the expressions.
func BenchmarkUAOtherVendor(b *testing.B) {
	d := New(nil)
	const ua = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:11:22:33"
	b.Run("parseUA", func(b *testing.B) {
		for b.Loop() {
			d.parseUA(ua)
		}
	})
	b.Run("expressions", func(b *testing.B) {
		for b.Loop() {
			if !gigasetWordRe.MatchString(ua) {
				d.parseSnomUA(ua)
			}
		}
	})
}
