// Package web will hold the admin web UI (html/template views and embedded
// static assets) that server/httpd mounts. No issue has asked for it yet;
// the folder exists so the layout in README.md is the real one.
package web
