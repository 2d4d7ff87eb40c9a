package openstage

import (
	"fmt"
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// state is the driver's part of one session (vendors.Session.State).
type state struct {
	queue    [][]item // WriteItems fragments not sent yet
	action   string   // the action of the last answer
	maxItems int      // the phone's maxItems (0: unlimited)
	secrets  bool     // the secrets step is behind us (sent, or none could go)
	firmware bool     // the firmware step is behind us
}

// Peek implements vendors.Dialoguer.
func (*Driver) Peek(req vendors.Request) (vendors.Peeked, error) {
	m, err := parse(req.Body)
	if err != nil {
		return vendors.Peeked{}, err
	}
	return vendors.Peeked{Nonce: m.Nonce, Opens: m.Reason != reasonReplyTo}, nil
}

// Converse implements vendors.Dialoguer: the WPI state machine of one
// session (README.md, "Sessions").
func (d *Driver) Converse(req vendors.Request, dev *vendors.Device, s vendors.Session) (vendors.Turn, error) {
	m, err := parse(req.Body)
	if err != nil {
		return vendors.Turn{}, err
	}
	st, _ := s.State.(*state)
	t := vendors.Turn{Reported: reported(m)}
	end := func(extra ...item) (vendors.Turn, error) {
		f, err := d.message(m.Nonce, actionCleanUp, extra)
		t.File, t.Close, t.State = f, true, nil
		return t, err
	}
	if s.Messages >= vendors.MaxDialogueMessages-1 {
		return end() // the loop guard's last word
	}
	switch m.Reason {
	case reasonStartUp, reasonSolicited:
		if dev == nil {
			return end() // unknown phone: nothing but CleanUp
		}
		st = &state{maxItems: m.MaxItems, queue: fragments(configGroups(dev), m.MaxItems)}
		return d.next(m, dev, s, st, t)
	case reasonLocal, reasonInventory:
		return end() // what it reported is kept; never answered with a write (no loop)
	case reasonStatus:
		t.Firmware = firmwareStatus(m)
		return end()
	}
	// reply-to
	if st == nil || dev == nil || !strings.EqualFold(m.Action, st.action) {
		return end()
	}
	for _, x := range m.Items {
		if x.Status != "" && !strings.EqualFold(x.Status, "ok") && !strings.EqualFold(x.Status, "accepted") {
			t.Failed = append(t.Failed, x.ref()+": "+text(x.Status, 32))
		}
	}
	switch strings.ToLower(m.Status) {
	case "busy":
		// The phone is in a call: it calls back (solicited) when idle;
		// the job is kept here, as the flag does not survive a restart.
		t.JobKept = true
		return end(it("send-solicited", "true"))
	case "accepted", "failed":
	default:
		return end()
	}
	if st.action == actionSoftware {
		t.JobDone = true
		return end()
	}
	return d.next(m, dev, s, st, t)
}

// next sends the session's next step: the next WriteItems fragment, the
// secrets, the firmware, or CleanUp.
func (d *Driver) next(m msg, dev *vendors.Device, s vendors.Session, st *state, t vendors.Turn) (vendors.Turn, error) {
	send := func(action string, items []item) (vendors.Turn, error) {
		f, err := d.message(m.Nonce, action, items)
		st.action = action
		t.File, t.State = f, st
		return t, err
	}
	if len(st.queue) > 0 {
		items := st.queue[0]
		st.queue = st.queue[1:]
		return send(actionWriteItems, items)
	}
	if !st.secrets {
		if !s.SecretsOffered {
			t.WantSecrets, t.State = true, st
			return t, nil
		}
		st.secrets = true
		if dev.WithSecrets {
			if items := secretItems(dev, st.maxItems); len(items) > 0 {
				t.Secret = true
				return send(actionWriteItems, items)
			}
		}
	}
	if !st.firmware {
		st.firmware = true
		if dev.FirmwareURL != "" {
			return send(actionSoftware, []item{it("file-https-base-url", dev.FirmwareURL), it("file-type", "APP"),
				it("file-priority", "normal"), it("file-sw-type", "Siemens SIP"), it("file-sw-version", phoneVersion(dev.FirmwareVersion))})
		}
	}
	t.JobDone = true
	f, err := d.message(m.Nonce, actionCleanUp, nil)
	t.File, t.Close, t.State = f, true, nil
	return t, err
}

// reportedNames are the items the core keeps of what a phone reports:
// how to reach it, what it is and runs, and its key modules (side cars
// announce themselves in inventory-changes; openstage.md §3.1).
var reportedNames = map[string]bool{"contact-me-uri": true, "device-type": true, "related-device-type": true,
	"software-version": true, "e164": true, "part-number": true, "key-module": true, "sidecar-type": true}

// reported is what the message says about the phone, bounded and safe;
// never an item whose name says it is a secret.
func reported(m msg) map[string]string {
	out := map[string]string{}
	for _, x := range m.Items {
		v := strings.TrimSpace(x.Value)
		if (!reportedNames[x.Name] && !strings.Contains(x.Name, "module")) || vendors.SecretParam(x.Name) ||
			len(v) > 255 || !vendors.SafeText(v) || len(out) >= 16 {
			continue
		}
		out[x.ref()] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// firmwareStatus reads a status contact's outcome of a deployment
// (openstage.md §5: file-deployment-status "ok").
func firmwareStatus(m msg) string {
	v := m.item("file-deployment-status")
	if len(v) > 32 || !vendors.SafeText(v) {
		return "invalid"
	}
	return v
}

// ContactMe implements vendors.Contacter: POST ContactMe=true (with the
// address to call back) to the contact-me-uri the phone reported; the
// phone answers 204 (openstage.md §6.1).
func (*Driver) ContactMe(rep map[string]string, host string, port int) (vendors.HTTPRequest, error) {
	u := rep["contact-me-uri"]
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return vendors.HTTPRequest{}, fmt.Errorf("the phone reported no contact-me-uri: %w", vendors.ErrUnsupported)
	}
	body := "ContactMe=true"
	if host != "" && port > 0 {
		body += fmt.Sprintf("&dls_ip_addr=%s&dls_ip_port=%d", host, port)
	}
	return vendors.HTTPRequest{Method: "POST", URL: u, ContentType: "application/x-www-form-urlencoded", Body: []byte(body), Want: 204}, nil
}
