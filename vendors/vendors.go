// Package vendors is the contract between the provisioning core and the
// vendor drivers: plain domain types (Device, Line, Key, Model), the Vendor
// interface every driver implements, and the Registry that main builds from
// an explicit list of drivers.
//
// Drivers are pure: no network, no store, no clock. Everything they need
// arrives in the Device the core hands them, which makes every driver a
// function that golden tests can pin down byte for byte.
package vendors

import (
	"errors"
	"strings"
)

// Sentinel errors. Drivers and the core wrap them with %w; edges map them to
// protocol answers that leak nothing.
var (
	// ErrNotFound means the requested file, model or device does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnsupported means the request names something a driver or model cannot do.
	ErrUnsupported = errors.New("unsupported")
)

// FileKind says what a requested path names.
type FileKind int

const (
	// FileUnknown is a path the driver does not serve.
	FileUnknown FileKind = iota
	// FileCommon is a file that never carries secrets: one shared by every phone
	// of a model, or a per-phone index such as Yealink's <mac>.boot.
	FileCommon
	// FileDevice is a per-phone file named after its MAC. Only these may carry secrets.
	FileDevice
)

// String returns a lower-case name of the kind for logs.
func (k FileKind) String() string {
	switch k {
	case FileCommon:
		return "common"
	case FileDevice:
		return "device"
	}
	return "unknown"
}

// Evidence weights a driver adds up into Identity.Score.
const (
	// ScoreOUI is the weight of a MAC whose OUI belongs to the vendor.
	ScoreOUI = 1
	// ScorePath is the weight of a path that matches one of the vendor's file names.
	ScorePath = 2
	// ScoreUserAgent is the weight of a User-Agent that parses as the vendor's.
	ScoreUserAgent = 4
	// ScoreVendorClass is the weight of a DHCP vendor class (option 60,
	// Request.VendorClass) that names the vendor or one of its models
	// ("snomD785", "Gigaset_N720_DM_PRO"; reference dhcp.md §3): the
	// vendor's own spelling of vendor and model, as specific as a file
	// name, but without firmware or MAC, and configurable on some phones
	// (yealink.md §7). A MAC outside the driver's ranges overrules it: the
	// class then counts nothing, so the OUI decides the vendor and a
	// laptop cannot become a phone by what it puts in option 60.
	ScoreVendorClass = 2
)

// Request is what an edge learnt about a phone, transport-neutral: a
// fetch (HTTP, TFTP), a plug-and-play SUBSCRIBE (SIP) or a lease request
// seen by the passive DHCP sniffer. Every field but BaseURL comes from the
// network and may be forged by anyone on the phone's segment: edges bound
// each string (by the size of what they parse, or as documented below),
// and drivers treat them as hostile (no panic on any value, no trust in a
// length or a character set).
type Request struct {
	// Path is the requested file name relative to the provisioning root,
	// cleaned by the edge: no leading slash, no "prov/" prefix, no "..".
	// Empty for SIP and DHCP.
	Path string
	// UserAgent is the HTTP User-Agent, or the SIP User-Agent header of a
	// plug-and-play SUBSCRIBE; empty over TFTP and DHCP.
	UserAgent string
	// MAC is a canonical MAC passed out of band: a ?mac= query, the MAC of
	// a SUBSCRIBE's Request-URI (or To, From), a DHCP request's hardware
	// address (chaddr); or empty.
	MAC string
	// RemoteAddr is the phone's IP address (without port), or "" when the
	// edge cannot tell (a DHCPDISCOVER has no address yet).
	RemoteAddr string
	// Transport is "http", "https", "tftp", "sip" (plug-and-play) or
	// "dhcp" (the passive sniffer).
	Transport string
	// BaseURL is the provisioning base URL as the phone reached us, ending
	// in "/" (e.g. "http://192.0.2.10:8080/prov/"), or "" when the edge
	// cannot tell (TFTP, SIP, DHCP). Drivers ignore it; the core uses it to
	// fill Device.ProvisionURL when no public URL is configured.
	BaseURL string
	// Method is MethodGet (or "", for a fetch) or MethodPost (a message
	// for a driver's Responder).
	Method string
	// Body is a POSTed message, at most MaxRequestBody bytes; nil for a
	// fetch. It comes from the phone (or anyone on the network): parse it
	// as hostile input.
	Body []byte
	// Header holds the few request headers a dialogue needs (HTTP edge:
	// Content-Type and Cookie), by canonical name; nil elsewhere.
	Header map[string]string
	// VendorClass is the DHCP vendor class identifier (option 60) of a
	// lease request, e.g. "snomD785" or "N510_IP_PRO"; empty on the other
	// edges. The sniffer passes at most 64 bytes of printable ASCII; a
	// driver reads it with MatchVendorClass, which bounds it again.
	VendorClass string
	// Hostname is the DHCP host name (option 12) of a lease request;
	// empty on the other edges. Same bounds as VendorClass. No driver
	// reads it yet (no reference documents what phones send): it is
	// carried so that the core and the logs see what the edge saw.
	Hostname string
	// LinkSource is the Ethernet source address (canonical, as MAC) of
	// the captured frame that carried a DHCP request: the client's own
	// address, or the last relay's when it was relayed; empty on the
	// other edges. Unlike MAC (chaddr, what the request claims) it is
	// what the capture saw of the sender; the core charges new inbox
	// entries to it. Drivers ignore it.
	LinkSource string
	// RelayAgent is the relay agent address (giaddr) of a relayed DHCP
	// request, or "". Drivers ignore it.
	RelayAgent string
	// Authorization is the HTTP Authorization header as sent, or "" (every
	// other edge, or none sent). Drivers ignore it: the core checks it
	// against the device's provisioning credential (see Credentialer).
	Authorization string
	// Target is the HTTP request-target as sent (path and query), which a
	// Digest answer must name; "" on the other edges.
	Target string
	// SecretFree is set by an edge that will not send the answer's body
	// as a transfer of its own (an HTTP HEAD, a conditional GET): the core
	// renders the file without secrets and never claims, consumes or
	// reveals a disclosure window for it. Drivers ignore it.
	SecretFree bool
	// ClientCerts is what the HTTPS edge verified of the TLS client
	// certificate the request came with: one entry for each vendor whose
	// configured CA (--phone-ca) it chains to and whose device
	// certificates name a MAC where this one does. Empty on every other
	// edge and without a certificate. The core requires it for the
	// per-device files of those vendors; drivers ignore it.
	ClientCerts []ClientCert
}

// Identity is what a driver learnt from a Request.
type Identity struct {
	Vendor   string   // driver name, e.g. "yealink"
	Model    string   // canonical model name; the reported name when unsupported; "" when unknown
	MAC      string   // canonical MAC (12 lower-case hex digits), or ""
	Firmware string   // firmware version reported by the phone, or ""
	Kind     FileKind // what Request.Path names for this driver
	Score    int      // sum of Score* evidence; 0 means "not mine"
}

// File is a rendered file as a phone receives it.
type File struct {
	Name        string
	ContentType string
	Body        []byte
}

// Vendor is a driver for one vendor (or one vendor's format family).
type Vendor interface {
	// Name is the vendor's lower-case name as used in the API ("yealink").
	Name() string
	// Models lists every supported model with its capabilities.
	Models() []Model
	// Identify inspects a request (path, User-Agent, MAC, DHCP vendor
	// class) and says what it learnt. A zero Score means the request is
	// not for this driver. It must not panic on any Request.
	Identify(req Request) Identity
	// Files lists the names of the files this device fetches, the per-device
	// file first. The list is used for previews.
	Files(d *Device) []string
	// Render renders the named file for the device. For a common file the
	// device carries only Vendor, Model, Settings, Zone, ProvisionURL and,
	// when the request revealed it, MAC: no lines, keys or secrets. It
	// returns an error wrapping ErrNotFound for a name the driver does not
	// serve (or cannot serve without the MAC).
	Render(name string, d *Device) (*File, error)
}

// DirectoryRenderer is implemented by drivers that serve a remote phone book.
type DirectoryRenderer interface {
	// RenderDirectory renders the company directory in the vendor's format.
	RenderDirectory(entries []DirectoryEntry) (*File, error)
}

// FirmwareNormaliser is implemented by drivers whose phones report their
// firmware version in a spelling of their own (Gigaset's User-Agent says
// "83.V2.43.0+build.5f0a106" for the image "2.43.0"). The core compares a
// phone's reported version with its target after passing both through
// it; without it both are compared as they are, ignoring case and
// surrounding space.
type FirmwareNormaliser interface {
	// NormaliseFirmware returns the comparable form of a version (as
	// reported by a phone, or as an admin named an image). It must not
	// panic on any input.
	NormaliseFirmware(version string) string
}

// SameFirmware reports whether two versions name the same firmware for
// driver v: equal after v's FirmwareNormaliser (if any), ignoring case and
// surrounding space. An empty version is never the same as another.
func SameFirmware(v Vendor, a, b string) bool {
	if n, ok := v.(FirmwareNormaliser); ok {
		a, b = n.NormaliseFirmware(a), n.NormaliseFirmware(b)
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && b != "" && strings.EqualFold(a, b)
}

// PnPFiler is implemented by drivers whose phones, told the provisioning
// URL by SIP plug-and-play, fetch exactly that URL after substituting
// their MAC (Snom's setting_server). Drivers without it get the base URL,
// and their phones append their own file names.
type PnPFiler interface {
	// PnPFile is the file name to append to the base URL, e.g. "{mac}.xml".
	PnPFile() string
}

// DirectoryEntry is one line of the company directory.
type DirectoryEntry struct {
	Name      string
	Extension string
}

// Device is the vendor-neutral view of one phone that the core hands a driver.
type Device struct {
	MAC    string // canonical MAC, "" for a common file
	Vendor string
	Model  string // canonical model name
	Label  string
	// Lines are the SIP accounts on the phone; Lines[0] is line 1.
	Lines []Line
	// Keys is the resolved key layout (profile, overrides and defaults merged,
	// labels filled in). Drivers render it as is.
	Keys []Key
	// Settings are the effective settings (global, then per-device overrides).
	Settings Settings
	// Zone is Settings.Timezone resolved by the core.
	Zone Zone
	// ProvisionURL is the base URL phones fetch from, ending in "/"
	// (e.g. "http://192.0.2.10:8080/prov/").
	ProvisionURL string
	// DirectoryURL is the URL of this vendor's company directory, or "".
	DirectoryURL string
	// FirmwareURL is the absolute URL of the firmware image the phone
	// should install now, or "". The core sets it on a per-device file
	// only, and only when the phone should upgrade now (its reported
	// version differs from its target, it is in the rollout's stage and
	// inside the maintenance window): a phone on target gets none, so it
	// never loops. Drivers render their vendor's firmware parameters from
	// it and write nothing about firmware when it is empty.
	FirmwareURL string
	// FirmwareVersion is the version of the image at FirmwareURL as the
	// catalogue spells it (the admin's upload), or "".
	FirmwareVersion string
	// WithSecrets says whether secret parameters (Line.Password,
	// MenuPassword, WebPassword) go into the file. When false a driver
	// leaves those parameters out entirely: no empty value, no placeholder.
	WithSecrets bool
	// MenuPassword is the phone's menu/admin PIN (secret).
	MenuPassword string
	// WebPassword is the phone's web UI admin password (secret).
	WebPassword string
	// ProvisionUser and ProvisionPassword are the phone's own credential
	// toward the provisioning server (see Credentialer). The password is
	// a secret: set only with WithSecrets, when the core issues a new
	// credential; drivers render both only when the password is set.
	ProvisionUser     string
	ProvisionPassword string
	// PnPOff asks the per-device file to switch the phone's SIP
	// multicast plug-and-play off, where the vendor documents a parameter
	// for it: the core sets it for every assigned device, so the file
	// that carries the secrets does (see README.md, "PnP off once
	// provisioned"). When false a driver writes nothing about PnP (the
	// phone keeps its factory default, on); common files never see it set.
	PnPOff bool
	// Params are raw vendor parameters (ParamChecker): the model's, then
	// the key profile's, then the device's own, merged by name by the
	// core. A driver writes them last in the per-device file, as given.
	Params []Param
}

// Line is one SIP account on a phone.
type Line struct {
	Extension   string
	DisplayName string
	AuthUser    string
	Password    string // secret
}

// Settings are the SIP and locale settings rendered into every file.
type Settings struct {
	SIPServer     string // host name or address of the registrar
	SIPPort       int
	SIPTransport  string // "udp", "tcp" or "tls"
	OutboundProxy string // "host[:port]", or "" for none
	NTPServer     string
	Timezone      string // IANA name, e.g. "Europe/Berlin"
	Language      string // phone UI language, a key of Languages
	WebLanguage   string // web UI language, a key of Languages
	ToneScheme    string // country code, a key of ToneSchemes
}

// Languages are the UI languages the product supports, by ISO 639-1 code.
// Every driver maps each of them to its own value (or to English where the
// phone has no such language).
var Languages = map[string]string{
	"en": "English", "de": "German", "fr": "French", "it": "Italian",
	"es": "Spanish", "nl": "Dutch", "pt": "Portuguese", "pl": "Polish",
	"cs": "Czech", "ru": "Russian", "tr": "Turkish", "sv": "Swedish",
	"da": "Danish",
}

// ToneSchemes are the call-progress tone schemes the product supports, by
// ISO 3166 country code.
var ToneSchemes = map[string]string{
	"US": "United States", "GB": "United Kingdom", "DE": "Germany", "AT": "Austria",
	"CH": "Switzerland", "FR": "France", "IT": "Italy", "ES": "Spain",
	"NL": "Netherlands", "BE": "Belgium", "PL": "Poland", "CZ": "Czech Republic",
	"SE": "Sweden", "DK": "Denmark", "NO": "Norway", "PT": "Portugal",
	"RU": "Russia", "TR": "Turkey", "AU": "Australia",
}

// SplitHostPort splits "host[:port]" leniently; port is 0 when absent.
func SplitHostPort(s string) (host string, port int) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0
	}
	if strings.HasPrefix(s, "[") { // [v6]:port
		if i := strings.Index(s, "]"); i > 0 {
			host, rest := s[1:i], s[i+1:]
			if strings.HasPrefix(rest, ":") {
				return host, atoi(rest[1:])
			}
			return host, 0
		}
	}
	if i := strings.LastIndex(s, ":"); i > 0 && strings.Count(s, ":") == 1 {
		return s[:i], atoi(s[i+1:])
	}
	return s, 0
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		if n = n*10 + int(c-'0'); n > 65535 {
			return 0
		}
	}
	return n
}

// FinishIdentity completes a driver's identification of req from what its
// path and User-Agent gave (id): the MAC from ?mac= when neither named one,
// ScoreOUI when the MAC has one of the vendor's OUIs (ours), and
// ScoreVendorClass (with the model when none is known yet) when the DHCP
// vendor class is one of the vendor's (class) and no other vendor's MAC
// contradicts it. A score of 0 is no identification.
func FinishIdentity(id Identity, req Request, ours func(mac string) bool, class func(string) (string, bool)) Identity {
	if id.MAC == "" && req.MAC != "" {
		if m, err := ParseMAC(req.MAC); err == nil {
			id.MAC = m
		}
	}
	if ours(id.MAC) {
		id.Score += ScoreOUI
	}
	if id.MAC == "" || ours(id.MAC) {
		if model, ok := class(req.VendorClass); ok {
			id.Score += ScoreVendorClass
			if id.Model == "" {
				id.Model = model
			}
		}
	}
	if id.Score == 0 {
		return Identity{}
	}
	return id
}
