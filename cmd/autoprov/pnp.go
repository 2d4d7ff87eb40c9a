package main

import (
	"fmt"
	"log/slog"

	"github.com/autoprov/autoprov/server/sippnp"
)

// listenPnP opens the SIP plug-and-play sockets when --pnp is set (nil
// otherwise). An error names the flag to change.
func listenPnP(c config) (*sippnp.Conns, error) {
	if c.pnp == "" {
		return nil, nil
	}
	conns, err := sippnp.Listen(c.pnp, c.pnpInterface)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for SIP plug-and-play on %q: %v (change --pnp or AUTOPROV_PNP, "+
			"or --pnp-interface or AUTOPROV_PNP_INTERFACE; empty --pnp disables it; a PBX bound to port 5060 "+
			"without SO_REUSEADDR holds the port: bind it to a unicast address)", c.pnp, err)
	}
	return conns, nil
}

// logPnP says where plug-and-play listens: the group and the interfaces
// joined, and the socket replies leave from.
func logPnP(log *slog.Logger, c *sippnp.Conns) {
	if !c.Multicast() {
		log.Info("sip plug-and-play listening (unicast)", "addr", c.Recv.LocalAddr().String())
		return
	}
	for _, s := range c.Skipped {
		log.Warn("sip plug-and-play: group not joined on an interface", "why", s)
	}
	log.Info("sip plug-and-play listening", "group", c.Recv.LocalAddr().String(), "interfaces", c.Interfaces,
		"reply_from", c.Send.LocalAddr().String())
}
