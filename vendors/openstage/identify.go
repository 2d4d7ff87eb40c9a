package openstage

import (
	"strings"

	"github.com/autoprov/autoprov/vendors"
)

// ouis are the OpenStage OUIs (reference openstage.md §12: WAZO's
// siemens.conf; GS3 also 00:1a:e8).
var ouis = []string{"0001e3", "0013a9", "001ae8"}

func ours(mac string) bool {
	for _, o := range ouis {
		if strings.HasPrefix(mac, o) {
			return true
		}
	}
	return false
}

// vendorClass matches DHCP option 60: the phones send "OptiIpPhone"
// (openstage.md §10; WAZO matches its first 11 characters). It names no
// model.
func vendorClass(c string) (string, bool) {
	return "", len(c) >= 11 && strings.EqualFold(c[:11], "OptiIpPhone")
}

// Identify implements vendors.Vendor: a POST to the login path is read
// for its device-type, mac-addr and software-version items; the OUI and
// DHCP option 60 count as for every driver.
func (*Driver) Identify(req vendors.Request) vendors.Identity {
	var id vendors.Identity
	if req.Method == vendors.MethodPost && (strings.EqualFold(req.Path, LoginPath) || strings.EqualFold(req.Path, "provisioningService")) {
		id = vendors.Identity{Vendor: Name, Kind: vendors.FileDevice, Score: vendors.ScorePath}
		if m, err := parse(req.Body); err == nil {
			id.Model = canonicalModel(m.item("device-type"))
			if mac, err := vendors.ParseMAC(m.item("mac-addr")); err == nil {
				id.MAC = mac
			}
			if fw := strings.TrimSpace(m.item("software-version")); len(fw) <= 64 && vendors.SafeText(fw) {
				id.Firmware = fw
			}
		}
	}
	id = vendors.FinishIdentity(id, req, ours, vendorClass)
	if id.Score > 0 {
		id.Vendor = Name
	}
	return id
}
