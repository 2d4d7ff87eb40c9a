package central

import "context"

type linkActorKey struct{}

// WithLinkActor marks ctx as a request the central sent over a site's
// link, made by actor ("central@<address>"). The link is mutually
// authenticated (the site verified the central's certificate, the central
// the site's), so the site's HTTP edge lets such a request through its
// admin token check and allow-list and audits it under actor. Only the
// site's link server sets it; nothing a client sends can.
func WithLinkActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, linkActorKey{}, actor)
}

// LinkActor returns the actor of a request that came over the link
// (WithLinkActor).
func LinkActor(ctx context.Context) (string, bool) {
	a, ok := ctx.Value(linkActorKey{}).(string)
	return a, ok && a != ""
}

type adminActorKey struct{}

// WithAdminActor passes the actor of an admin API request on the central
// ("central@<client address>") to the Hub's handler, which audits under it
// and names it to the site.
func WithAdminActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, adminActorKey{}, actor)
}

func adminActor(ctx context.Context) string {
	if a, ok := ctx.Value(adminActorKey{}).(string); ok && a != "" {
		return a
	}
	return "central@unknown"
}
