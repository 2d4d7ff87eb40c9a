package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/autoprov/autoprov/internal/looptest"
	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

// The acceptance as a new user meets it: the server started with --wpi,
// an OpenStage 40 created through the API, and a start-up from its MAC to
// https://<server>:<wpi>/DeploymentService/LoginService gets WriteItems
// with reg-addr, sip-user-id, sip-pwd and display-id-unicode under its
// own nonce; a second session gets them without sip-pwd.
func TestWPIListener(t *testing.T) {
	s := start(t, "--wpi", "127.0.0.1:0")
	m := regexp.MustCompile(`msg="autoprov started".* wpi=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no wpi address in the start-up log:\n%s", s.log.String())
	}
	setup(s, "00:1A:E8:12:34:56", "OpenStage 40")
	p := wpitest.New("https://"+m[1]+"/DeploymentService/LoginService", "00:1A:E8:12:34:56", "OpenStage 40")
	rs, err := p.Session("start-up", nil)
	if err != nil {
		t.Fatal(err)
	}
	w := wpitest.Written(rs)
	for _, k := range []string{"reg-addr", "sip-user-id", "sip-pwd", "display-id-unicode"} {
		if w[k] == "" {
			t.Errorf("start-up session lacks %s: %v", k, w)
		}
	}
	if w["sip-pwd"] != sipPass {
		t.Errorf("sip-pwd %q", w["sip-pwd"])
	}
	for _, r := range rs {
		if r.Nonce != rs[0].Nonce || len(r.Nonce) != 32 {
			t.Fatalf("nonce %q in a session opened with %q", r.Nonce, rs[0].Nonce)
		}
	}
	if !waitComplete(t, s, "001ae8123456") {
		t.Error("the secrets session is recorded as incomplete")
	}
	rs, err = p.Session("start-up", nil)
	if err != nil {
		t.Fatal(err)
	}
	if w2 := wpitest.Written(rs); w2["sip-pwd"] != "" || w2["reg-addr"] != w["reg-addr"] || w2["display-id-unicode"] != w["display-id-unicode"] {
		t.Errorf("second session: %v", w2)
	}
	s.leaks(sipPass)
}

// TestReadmeOpenStage pastes README's OpenStage block as a reader would:
// the start-up gets WriteItems with the phone's registration but no
// password, the reply-to the passwords, once.
func TestReadmeOpenStage(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, "%s not installed", tool)
		}
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script := readmeBlock(t, string(b), "## OpenStage and OpenScape Desk Phones: the Workpoint Interface")
	out, _ := pasteReadme(t, "OpenStage", script, t.TempDir(), []struct{ old, new string }{
		{"127.0.0.1:18080", "127.0.0.1:" + looptest.FreePort(t, "tcp")},
		{"127.0.0.1:18443", "127.0.0.1:" + looptest.FreePort(t, "tcp")},
	})
	first, second, ok := strings.Cut(out, "</DLSMessage>")
	if !ok {
		t.Fatalf("the pasted OpenStage block printed no DLSMessage:\n%s", out)
	}
	for _, want := range []string{"<Action>WriteItems</Action>", `name="reg-addr"`, `name="sip-user-id"`, `nonce="6A1F0C33D2B84E9F8C1D2E3F40516273"`} {
		if !strings.Contains(first, want) {
			t.Errorf("the start-up's answer has no %q:\n%s", want, first)
		}
	}
	if strings.Contains(first, `name="sip-pwd"`) {
		t.Errorf("the start-up's answer carries sip-pwd before the rest was accepted:\n%s", first)
	}
	if !strings.Contains(second, `name="sip-pwd"`) {
		t.Errorf("the reply-to's answer carries no sip-pwd:\n%s", second)
	}
}
