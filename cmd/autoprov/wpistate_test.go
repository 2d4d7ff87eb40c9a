package main

import (
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

// wpiOf returns the WPI address the server logged at start-up.
func wpiOf(t *testing.T, log *syncBuffer) string {
	t.Helper()
	m := regexp.MustCompile(`autoprov started"?.* wpi=(\S+)`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no wpi address in the start-up log:\n%s", log.String())
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
	p := wpitest.New("https://"+wpiOf(t, s.log)+"/DeploymentService/LoginService", "00:1A:E8:12:34:56", "OpenStage 40")
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
	p = wpitest.New("https://"+wpiOf(t, s.log)+"/DeploymentService/LoginService", "00:1A:E8:12:34:56", "OpenStage 40")
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

// Two instances on one database (SQLite file, PostgreSQL): a change made
// on one queues the job and sends the contact-me; the phone's DCMP poll
// and solicited session reaching the other find the job, and the contact
// gap holds across both.
func TestWPIStateTwoProcessesSQLite(t *testing.T) {
	wpiTwoProcesses(t, filepath.Join(t.TempDir(), "fleet.db"))
}

func TestWPIStateTwoProcessesPostgres(t *testing.T) {
	dsn, _ := postgresDSN(t)
	wpiTwoProcesses(t, dsn)
}

func wpiTwoProcesses(t *testing.T, db string) {
	dir := t.TempDir()
	a := startChild(t, "--data", filepath.Join(dir, "a"), "--db", db, "--http", "127.0.0.1:0", "--tftp", "", "--wpi", "127.0.0.1:0")
	b := startChild(t, "--data", filepath.Join(dir, "b"), "--db", db, "--http", "127.0.0.1:0", "--tftp", "", "--wpi", "127.0.0.1:0")
	sa := &server{t: t, base: a.base, token: testToken, log: a.log}
	sb := &server{t: t, base: b.base, token: testToken, log: b.log}
	setup(sa, "00:1A:E8:12:34:56", "OpenStage 40")
	l, err := wpitest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pa := wpitest.New("https://"+wpiOf(t, a.log)+"/DeploymentService/LoginService", "00:1A:E8:12:34:56", "OpenStage 40")
	pa.ContactURI = l.URL
	if _, err := pa.Session("start-up", nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := wpitest.Poll(http.DefaultClient, b.base, "00:1A:E8:12:34:56"); code != http.StatusOK {
		t.Fatalf("DCMP poll with nothing pending: %d", code)
	}
	sa.must(200, "PATCH", "/api/v1/devices/001ae8123456", map[string]any{"label": "Reception"}, nil)
	if _, err := l.Wait(10 * time.Second); err != nil {
		t.Fatalf("no contact-me after the change on instance a: %v", err)
	}
	if code, _ := wpitest.Poll(http.DefaultClient, b.base, "00:1A:E8:12:34:56"); code != http.StatusAccepted {
		t.Fatalf("DCMP poll on instance b: %d (the job queued on a is not seen)", code)
	}
	var res struct{ Status, Detail string }
	sb.must(200, "POST", "/api/v1/devices/001ae8123456/resync", nil, &res)
	if res.Status != "queued" || len(l.Bodies()) != 1 {
		t.Fatalf("a resync on b inside the contact gap of a's contact-me: %+v, %d sent", res, len(l.Bodies()))
	}
	pb := wpitest.New("https://"+wpiOf(t, b.log)+"/DeploymentService/LoginService", "00:1A:E8:12:34:56", "OpenStage 40")
	rs, err := pb.Session("solicited", nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := wpitest.Written(rs); w["reg-addr"] == "" {
		t.Fatalf("the solicited session on b delivered %v", w)
	}
	if code, _ := wpitest.Poll(http.DefaultClient, a.base, "00:1A:E8:12:34:56"); code != http.StatusOK {
		t.Fatalf("DCMP poll on a after b delivered the job: %d", code)
	}
	a.stop(t)
	b.stop(t)
}
