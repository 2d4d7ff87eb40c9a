package main

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/autoprov/autoprov/server/sippnp"
	"github.com/autoprov/autoprov/server/sniff"
)

// listenPnP opens the SIP plug-and-play sockets when --pnp is set (nil
// otherwise). An error names the flags to change.
func listenPnP(c config) (*sippnp.Conns, error) {
	if c.pnp == "" {
		return nil, nil
	}
	lc := sippnp.ListenConfig{Mode: c.pnpMode}
	if sniff.Supported {
		lc.Capture = capturePnP
	}
	conns, err := lc.Listen(c.pnp, c.pnpInterface)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for SIP plug-and-play on %q: %v (change --pnp or AUTOPROV_PNP, "+
			"--pnp-mode or AUTOPROV_PNP_MODE, or --pnp-interface or AUTOPROV_PNP_INTERFACE; empty --pnp disables it; "+
			"capture mode needs root or CAP_NET_RAW)", c.pnp, err)
	}
	return conns, nil
}

// capturePnP captures the group's datagrams with server/sniff (the one
// package that captures).
func capturePnP(interfaces []string, dst *net.UDPAddr) (sippnp.Receiver, error) {
	c, err := sniff.OpenUDP(interfaces, dst)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// logPnP says how plug-and-play receives and why: the mode, the group and
// the interfaces, and the socket replies leave from.
func logPnP(log *slog.Logger, c *sippnp.Conns) {
	if !c.Multicast() {
		log.Info("sip plug-and-play listening (unicast)", "addr", c.Recv.LocalAddr().String())
		return
	}
	for _, s := range c.Skipped {
		log.Warn("sip plug-and-play: group not joined on an interface", "why", s)
	}
	log.Info("sip plug-and-play listening", "mode", c.Mode, "why", c.Why, "group", c.Recv.LocalAddr().String(),
		"interfaces", c.Interfaces, "reply_from", c.Send.LocalAddr().String())
}
