package main

import (
	"regexp"
	"testing"

	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
)

// An OpenStage in Vienna gets its DST amount as daylight-save-minutes and
// automatic DST on; daylight-save itself is a flag (DST in force now),
// never the minutes. GS3 (amooma/GS3 prov-settings.php), Gemeinschaft 5
// and a German OpenStage deployment's settings all write
// daylight-save=true|false and daylight-save-minutes=60; the server wrote
// daylight-save=60.
func TestOpenStageDaylightSaveItems(t *testing.T) {
	s := start(t, "--wpi", "127.0.0.1:0")
	m := regexp.MustCompile(`msg="autoprov started".* wpi=(\S+)`).FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no wpi address in the start-up log:\n%s", s.log.String())
	}
	setup(s, "00:1A:E8:12:34:57", "OpenStage 60")
	s.must(200, "PUT", "/api/v1/settings", map[string]any{"timezone": "Europe/Vienna", "language": "de", "tone_scheme": "AT"}, nil)
	p := wpitest.New("https://"+m[1]+"/DeploymentService/LoginService", "00:1A:E8:12:34:57", "OpenStage 60")
	rs, err := p.Session("start-up", nil)
	if err != nil {
		t.Fatal(err)
	}
	w := wpitest.Written(rs)
	for k, want := range map[string]string{"sntp-tz-offset": "60", "daylight-save-minutes": "60",
		"auto-daylight-save": "true", "language-iso": "de", "country-iso": "AT"} {
		if w[k] != want {
			t.Errorf("%s = %q, want %q", k, w[k], want)
		}
	}
	if v, ok := w["daylight-save"]; ok && v != "true" && v != "false" {
		t.Errorf("daylight-save = %q, want a flag (or left to the phone)", v)
	}
}
