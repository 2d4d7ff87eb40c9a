// Package autoprov is the domain vocabulary of the provisioning server:
// the inventory (settings, accounts, devices, key profiles), the disclosure
// window, the audit log, the inputs that change them and the errors every
// layer shares. It holds types and a few pure rules, nothing that talks to
// a database, a network or a clock.
//
// Every other package speaks these words: server/provision (the core)
// implements the rules on them, server/store keeps them in its own row
// types and columns, server/httpd and web turn them into their own JSON and
// pages. No struct here carries a JSON tag or a database tag: what is at
// rest is versioned by the store's migrations, what is on the wire by the
// HTTP edge's types.
package autoprov
