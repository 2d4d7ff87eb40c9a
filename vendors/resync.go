package vendors

// SIPRequest is one SIP request a driver asks the server to send to a
// phone, without the transport headers: the sender adds Via, From, To,
// Call-ID, CSeq, Contact, Max-Forwards and Content-Length and sends it
// to the phone's last known address.
type SIPRequest struct {
	// Method is the SIP method, e.g. "NOTIFY".
	Method string
	// User is the user part of the Request-URI and the To header
	// (sip:<User>@<phone>), or "" for none (sip:<phone>).
	User string
	// Event is the Event header, e.g. "check-sync;reboot=false".
	Event string
	// ContentType and Body are the message body; both empty for none.
	ContentType string
	Body        []byte
}

// Resyncer is implemented by drivers whose phones can be told, over the
// network, to fetch their configuration now (a "resync") or to reboot,
// as the vendor documents it (Yealink, Snom: SIP NOTIFY with
// "Event: check-sync"). The device is the driver's view without secrets
// (its lines tell the account a request may be addressed to). Resync
// returns an error wrapping ErrUnsupported when the vendor documents no
// trigger for the device's model, or no reboot when reboot is asked.
// Drivers without it are "unsupported" for every device.
type Resyncer interface {
	Resync(d *Device, reboot bool) ([]SIPRequest, error)
}

// CheckSync is the SIP NOTIFY "Event: check-sync" with the reboot
// parameter most vendors document: "check-sync;reboot=false" asks for a
// configuration fetch, "check-sync;reboot=true" for a reboot. It is
// addressed to the device's first account when it has one.
func CheckSync(d *Device, reboot bool) SIPRequest {
	ev := "check-sync;reboot=false"
	if reboot {
		ev = "check-sync;reboot=true"
	}
	r := SIPRequest{Method: "NOTIFY", Event: ev}
	if d != nil && len(d.Lines) > 0 {
		r.User = d.Lines[0].Extension
	}
	return r
}
