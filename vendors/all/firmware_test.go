package all

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/autoprov/autoprov/vendors"
	"github.com/autoprov/autoprov/vendors/openstage"
	"github.com/autoprov/autoprov/vendors/openstage/wpitest"
	"github.com/autoprov/autoprov/vendors/vendortest"
)

// The firmware image the guard offers: a URL no file names otherwise.
const (
	guardFirmwareURL     = "http://fw-guard.example.com:8080/prov/firmware/0123456789abcdef/guard-9.8.7.bin"
	guardFirmwareVersion = "9.8.7"
)

// TestFirmwareSupportMatchesTheFiles: every model of every registered
// driver either carries the firmware URL the core sets
// (vendors.Device.FirmwareURL) in what its phones get, a file it renders
// or an answer of its dialogue, or is marked vendors.Model.NoFirmware, so
// that the core refuses a target for it instead of leaving its devices
// "upgrading" for ever. A model added without firmware support fails
// here until it is marked; a marked model whose files do carry the URL
// fails too (the core would refuse targets it can take).
func TestFirmwareSupportMatchesTheFiles(t *testing.T) {
	reg, err := Registry("")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range reg.Drivers() {
		for _, m := range v.Models() {
			n++
			t.Run(v.Name()+"/"+m.Name, func(t *testing.T) {
				d := vendortest.SampleDevice(m)
				d.FirmwareURL, d.FirmwareVersion = guardFirmwareURL, guardFirmwareVersion
				var bodies [][]byte
				for _, name := range v.Files(d) {
					bodies = append(bodies, vendortest.Render(t, v, name, d).Body)
				}
				if dl, ok := v.(vendors.Dialoguer); ok {
					session := dialogueSessions[v.Name()]
					if session == nil {
						t.Fatalf("%s is a vendors.Dialoguer without a scripted session in dialogueSessions: add one", v.Name())
					}
					bodies = append(bodies, session(t, dl, d)...)
				}
				carried := false
				for _, b := range bodies {
					carried = carried || bytes.Contains(b, []byte(guardFirmwareURL))
				}
				switch {
				case !carried && !m.NoFirmware:
					t.Errorf("%s %s: nothing it renders (%d answers) carries the firmware URL the core set, and the model is not marked NoFirmware: render it, or mark the model so the core refuses firmware targets for it", v.Name(), m.Name, len(bodies))
				case carried && m.NoFirmware:
					t.Errorf("%s %s is marked NoFirmware, but what it renders carries the firmware URL: the core refuses targets it could take", v.Name(), m.Name)
				}
			})
		}
	}
	if n < 20 {
		t.Fatalf("only %d models in the registry", n)
	}
}

// dialogueSessions play one whole session of a vendors.Dialoguer's phone
// for d (a start-up, every action accepted, secrets offered when asked)
// and return every answer's body.
var dialogueSessions = map[string]func(t *testing.T, dl vendors.Dialoguer, d *vendors.Device) [][]byte{
	openstage.Name: openStageSession,
}

// openStageSession is a start-up of an OpenStage phone, each answer's
// action accepted until the session closes.
func openStageSession(t *testing.T, dl vendors.Dialoguer, d *vendors.Device) [][]byte {
	t.Helper()
	p := wpitest.New("", "00:1A:E8:12:34:56", "OpenStage 60")
	const nonce = "6A1F0C33D2B84E9F8C1D2E3F40516273"
	body := p.Body(nonce, "start-up", "", "", p.BasicItems())
	s := vendors.Session{}
	var out [][]byte
	for i := 1; i < vendors.MaxDialogueMessages; i++ {
		s.Messages = i
		req := vendors.Request{Path: openstage.LoginPath, Method: vendors.MethodPost, Body: body, Transport: "https"}
		turn, err := dl.Converse(req, d, s)
		if err == nil && turn.WantSecrets {
			s.SecretsOffered = true
			turn, err = dl.Converse(req, d, s)
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		s.SecretsOffered, s.State = false, turn.State
		if turn.File == nil {
			t.Fatalf("message %d: no answer", i)
		}
		out = append(out, turn.File.Body)
		if turn.Close {
			return out
		}
		var m struct {
			Action string `xml:"Message>Action"`
		}
		if err := xml.Unmarshal(turn.File.Body, &m); err != nil || m.Action == "" {
			t.Fatalf("message %d: answer without an action (%v):\n%s", i, err, turn.File.Body)
		}
		body = p.Body(nonce, "reply-to", m.Action, "accepted", nil)
	}
	t.Fatalf("no session end after %d messages", vendors.MaxDialogueMessages)
	return nil
}
