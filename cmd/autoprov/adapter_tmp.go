package main

import (
	"context"

	"github.com/autoprov/autoprov/server/provision"
)

// TEMPORARY until the identify branch lands.
type recorderAdapter struct{ p *provision.Phones }

func (a recorderAdapter) Discovered(d provision.Discovery) (string, error) {
	return a.p.Discovered(context.Background(), d)
}

func (a recorderAdapter) Sniffed(d provision.Discovery) (bool, error) {
	return a.p.Sniffed(context.Background(), d)
}
