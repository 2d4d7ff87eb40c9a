package tftpd

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/server/store"
	"github.com/autoprov/autoprov/vendors/all"
)

// TestCiscoFilesOverTFTPHPA: a Cisco MPP phone given a bare server
// address walks TFTP first (cisco-mpp.md §2.1), at the root: the real
// core and SQLite answer tftp-hpa with the bootstrap, whose Profile_Rule
// points at the HTTP per-device URL, and with the fallback tail
// Cisco/CP-8851-3PCC/<mac>.cfg, carrying the passwords the first time
// inside the window and none after.
func TestCiscoFilesOverTFTPHPA(t *testing.T) {
	bin := tftpHPA(t)
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "autoprov.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	phones, inv := provision.New(provision.Options{Registry: reg, FallbackURL: "http://prov.example.com:8080/"}, st)
	str := func(s string) *string { return &s }
	if _, err := inv.PutSettings(ctx, autoprov.SettingsPatch{SIPServer: str("pbx.example.com"), Timezone: str("America/New_York")}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"201", "202"} {
		if _, err := inv.CreateAccount(ctx, autoprov.AccountInput{Extension: str(ext), Password: str("Sip-Pass-" + ext + "-xyz")}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	accounts := []string{"201", "202"}
	tftpAllowed := true // TFTP cannot present the credential the secrets carry
	if _, err := inv.CreateDevice(ctx, autoprov.DeviceInput{MAC: str("00:56:2b:04:29:da"), Model: str("8851"), Accounts: &accounts, TFTPAllowed: &tftpAllowed}, "test"); err != nil {
		t.Fatal(err)
	}
	ts := startProvider(t, phones, nil)
	dir := t.TempDir()
	get := func(name string) string {
		t.Helper()
		local := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
		out, err := exec.Command(bin, "127.0.0.1", ts.port, "-m", "binary", "-c", "get", name, local).CombinedOutput()
		if err != nil {
			t.Fatalf("tftp get %s: %v\n%s", name, err, out)
		}
		b, err := os.ReadFile(local)
		if err != nil {
			t.Fatalf("tftp get %s: %v\n%s", name, err, out)
		}
		os.Remove(local)
		return string(b)
	}
	params := func(body string) map[string]string {
		t.Helper()
		var doc struct {
			XMLName xml.Name
			Params  []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		}
		if err := xml.Unmarshal([]byte(body), &doc); err != nil || doc.XMLName.Local != "flat-profile" {
			t.Fatalf("not a flat profile (%v):\n%s", err, body)
		}
		out := map[string]string{}
		for _, p := range doc.Params {
			out[p.XMLName.Local] = p.Value
		}
		return out
	}

	boot := params(get("8851-3PCC.xml"))
	if boot["Profile_Rule"] != "http://prov.example.com:8080/prov/$MA.xml" {
		t.Errorf("bootstrap Profile_Rule %q", boot["Profile_Rule"])
	}
	if alias := params(get("/CP-8851-3PCC.xml")); alias["Profile_Rule"] != boot["Profile_Rule"] {
		t.Errorf("CP- alias differs: %v", alias)
	}

	const tail = "Cisco/CP-8851-3PCC/00562b0429da.cfg"
	first := params(get(tail))
	if first["User_ID_1_"] != "201" || first["Password_1_"] != "Sip-Pass-201-xyz" || first["Password_2_"] != "Sip-Pass-202-xyz" ||
		first["Time_Zone"] != "GMT-05:00" || first["Daylight_Saving_Time_Rule"] != "start=3/8/7/2:0:0;end=11/1/7/2:0:0;save=1" {
		t.Fatalf("first fetch over TFTP: %v", first)
	}
	deadline := time.Now().Add(waitLong)
	for { // the edge commits the claim at block 1 and settles it after the last ACK
		d, err := inv.Device(ctx, "00562b0429da")
		if err != nil {
			t.Fatal(err)
		}
		if d.Disclosure.State == autoprov.DisclosureConsumed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("window %q, want consumed", d.Disclosure.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, name := range []string{tail, "/prov/00562b0429da.xml", "Cisco/CP-8851-3PCC/00562b0429da.xml"} {
		body := get(name)
		if p := params(body); p["User_ID_2_"] != "202" || strings.Contains(body, "Sip-Pass-") || strings.Contains(body, "Password_") {
			t.Errorf("%s after the window: %s", name, body)
		}
	}
}

// TestStoreFailureLoggedOncePerMinute: with the database gone, every
// phone's read fails the same way; the edge logs that once a minute for
// all clients and paths, and the next line says how many it left out.
// Real core on a closed SQLite store, real clients from distinct
// loopback addresses, each asking for its own MAC's file.
func TestStoreFailureLoggedOncePerMinute(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "autoprov.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	phones, _ := provision.New(provision.Options{Registry: reg}, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var offset atomic.Int64 // the limiters' clock, ahead of the real one
	clock := Option(func(s *Server) { s.now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) } })
	ts := startProvider(t, phones, nil, clock)

	read := func(i int) {
		t.Helper()
		c := looptest.DialTFTPFrom(t, fmt.Sprintf("127.0.%d.%d", i/200, 2+i%200), ts.addr)
		c.Send(t, looptest.RRQ(fmt.Sprintf("0015651234%02x.cfg", i), "octet"))
		op, p, err := c.TryRecv(waitLong)
		if err != nil || op != looptest.OpERROR || !strings.Contains(string(p), "not available") {
			t.Fatalf("read %d: op %d %q, %v; want ERROR not available", i, op, p, err)
		}
	}
	const n = 40
	for i := range n {
		read(i)
	}
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(ts.log.String(), "\n") {
			if strings.Contains(l, `msg="tftp provide failed"`) {
				out = append(out, l)
			}
		}
		return out
	}
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "suppressed=0") {
		t.Fatalf("%d reads from %d clients logged %d failure lines, want 1 with suppressed=0:\n%s", n, n, len(got), strings.Join(got, "\n"))
	}
	offset.Store(int64(time.Minute))
	read(n)
	got := lines()
	if len(got) != 2 || !strings.Contains(got[1], fmt.Sprintf("suppressed=%d", n-1)) {
		t.Fatalf("a minute later: %d failure lines, want 2, the second with suppressed=%d:\n%s", len(got), n-1, strings.Join(got, "\n"))
	}
}
