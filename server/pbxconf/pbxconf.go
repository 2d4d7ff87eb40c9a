// Package pbxconf writes the PBX side of autoprov's SIP accounts, ready to
// paste: Asterisk PJSIP (pjsip.conf sections), FreeSWITCH (directory XML)
// and Kamailio (INSERTs into the subscriber table). The output carries SIP
// passwords: the core hands this package only accounts whose password it
// generated, in an audited action (provision.Inventory.RevealPasswords),
// and nothing else calls it. Standard library only.
package pbxconf

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"
)

// Formats are the PBX formats Write knows.
var Formats = []string{"pjsip", "freeswitch", "kamailio"}

// Account is one SIP account as the PBX needs it.
type Account struct {
	Extension, DisplayName, AuthUser, Password string
}

// Write returns the accounts in format (one of Formats). domain is the SIP
// domain (the settings' sip_server), used by Kamailio's subscriber rows.
func Write(format, domain string, accounts []Account) (string, error) {
	switch format {
	case "pjsip":
		return pjsip(accounts), nil
	case "freeswitch":
		return freeswitch(accounts)
	case "kamailio":
		if domain == "" {
			return "", fmt.Errorf("kamailio needs the SIP domain: set sip_server in the settings")
		}
		return kamailio(domain, accounts), nil
	}
	return "", fmt.Errorf("unknown PBX format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// callerName keeps a display name inside pjsip.conf's quotes: no quote,
// backslash, semicolon (a comment) or line break.
func callerName(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '"', '\\', ';', '\r', '\n', '<', '>':
			return -1
		}
		return r
	}, s)
}

func pjsip(as []Account) string {
	var b strings.Builder
	b.WriteString("; Asterisk PJSIP (pjsip.conf), written by autoprov: one endpoint, auth and aor per account.\n")
	b.WriteString("; Add your transport, context and codecs; reload with: asterisk -rx 'pjsip reload'\n")
	for _, a := range as {
		fmt.Fprintf(&b, "\n[%s]\ntype=endpoint\ncontext=default\ndisallow=all\nallow=ulaw,alaw,g722\nauth=%s-auth\naors=%s\ncallerid=\"%s\" <%s>\n",
			a.Extension, a.Extension, a.Extension, callerName(a.DisplayName), a.Extension)
		fmt.Fprintf(&b, "\n[%s-auth]\ntype=auth\nauth_type=userpass\nusername=%s\npassword=%s\n", a.Extension, a.AuthUser, a.Password)
		fmt.Fprintf(&b, "\n[%s]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n", a.Extension)
	}
	return b.String()
}

func freeswitch(as []Account) (string, error) {
	type kv struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	type user struct {
		ID        string `xml:"id,attr"`
		Params    []kv   `xml:"params>param"`
		Variables []kv   `xml:"variables>variable"`
	}
	type include struct {
		XMLName xml.Name `xml:"include"`
		Users   []user   `xml:"user"`
	}
	doc := include{}
	for _, a := range as {
		doc.Users = append(doc.Users, user{ID: a.AuthUser,
			Params: []kv{{"password", a.Password}},
			Variables: []kv{{"user_context", "default"}, {"effective_caller_id_name", a.DisplayName},
				{"effective_caller_id_number", a.Extension}}})
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", err
	}
	return "<!-- FreeSWITCH directory, written by autoprov: save under conf/directory/default/, then reloadxml -->\n" +
		string(out) + "\n", nil
}

// sqlText quotes s as an SQL string literal.
func sqlText(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func kamailio(domain string, as []Account) string {
	var b strings.Builder
	b.WriteString("-- Kamailio subscriber rows (auth_db), written by autoprov; ha1 and ha1b are\n")
	b.WriteString("-- MD5(user:domain:password) and MD5(user@domain:domain:password). Load with:\n")
	b.WriteString("--   kamctl db exec < this.sql   (or psql / mysql / sqlite3 on the kamailio database)\n")
	for _, a := range as {
		ha1 := md5hex(a.AuthUser + ":" + domain + ":" + a.Password)
		ha1b := md5hex(a.AuthUser + "@" + domain + ":" + domain + ":" + a.Password)
		fmt.Fprintf(&b, "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (%s, %s, %s, %s, %s);\n",
			sqlText(a.AuthUser), sqlText(domain), sqlText(a.Password), sqlText(ha1), sqlText(ha1b))
	}
	return b.String()
}
