package main

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

// wpiOf returns the WPI address the server logged at start-up.
func wpiOf(t *testing.T, s *server) string {
	t.Helper()
	m := regexp.MustCompile(`msg="autoprov started".* wpi=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no wpi address in the start-up log:\n%s", s.log.String())
	}
	return m[1]
}

// A restart between the resync and the phone's call loses nothing: the
// job queued (and the contact-me sent) before it is answered 202 by a DCMP
// poll after it and delivered by the solicited session; the contact gap
// and what the phone reported survive it too.
func TestWPIStateSurvivesRestart(t *testing.T) {
	data := t.TempDir()
	s := startWith(t, data, "--wpi", "127.0.0.1:0")
	setup(s, "00:1A:E8:12:34:56", "OpenStage 40")
	l, err := wpitest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := wpitest.New("https://"+wpiOf(t, s)+"/DeploymentService/LoginService", "00:1A:E8:12:34:56", "OpenStage 40")
	p.ContactURI = l.URL
	if _, err := p.Session("start-up", nil); err != nil {
		t.Fatal(err)
	}
	var res struct{ Status, Detail string }
	s.must(200, "POST", "/api/v1/devices/001ae8123456/resync", nil, &res)
	if res.Status != "sent" {
		t.Fatalf("resync: %+v", res)
	}
	if _, err := l.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s = startWith(t, data, "--wpi", "127.0.0.1:0")
	if code, err := wpitest.Poll(http.DefaultClient, s.base, "00:1A:E8:12:34:56"); err != nil || code != http.StatusAccepted {
		t.Fatalf("DCMP poll after the restart: %d %v (the job was forgotten)", code, err)
	}
	s.must(200, "POST", "/api/v1/devices/001ae8123456/resync", nil, &res)
	if res.Status != "queued" || len(l.Bodies()) != 1 {
		t.Fatalf("a resync inside the contact gap after the restart: %+v, %d contact-me sent", res, len(l.Bodies()))
	}
	var dev struct {
		Dialogue struct {
			Pending  bool
			Reported map[string]string
		}
	}
	s.must(200, "GET", "/api/v1/devices/001ae8123456", nil, &dev)
	if !dev.Dialogue.Pending || dev.Dialogue.Reported["contact-me-uri"] != l.URL {
		t.Fatalf("dialogue state after the restart: %+v", dev.Dialogue)
	}
	p = wpitest.New("https://"+wpiOf(t, s)+"/DeploymentService/LoginService", "00:1A:E8:12:34:56", "OpenStage 40")
	rs, err := p.Session("solicited", nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := wpitest.Written(rs); w["reg-addr"] == "" || w["display-id-unicode"] != "Alice Example" {
		t.Fatalf("the solicited session after the restart delivered %v", w)
	}
	if code, _ := wpitest.Poll(http.DefaultClient, s.base, "00:1A:E8:12:34:56"); code != http.StatusOK {
		t.Fatalf("DCMP poll after the job was delivered: %d", code)
	}
}
