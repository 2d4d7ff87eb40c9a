package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/autoprov/autoprov/server/sniff"
)

// openSniff opens the DHCP capture sockets when --sniff is set (nil
// otherwise). An error names the flag, and the capability capture needs.
func openSniff(c config) (*sniff.Capture, error) {
	if c.sniff == "" {
		return nil, nil
	}
	if !sniff.Supported {
		return nil, errors.New("--sniff (AUTOPROV_SNIFF): the passive DHCP sniffer works on Linux only; leave --sniff empty on this system")
	}
	capt, err := sniff.Open(c.sniff)
	if err != nil {
		return nil, fmt.Errorf("cannot capture DHCP on %q: %v (change --sniff or AUTOPROV_SNIFF; empty disables it; "+
			"capture needs root or CAP_NET_RAW)", c.sniff, err)
	}
	return capt, nil
}

// logSniff says which interfaces the sniffer watches.
func logSniff(log *slog.Logger, c *sniff.Capture) {
	log.Info("dhcp sniffer listening (passive: it never sends)", "interfaces", c.Interfaces)
}
