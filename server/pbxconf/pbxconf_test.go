package pbxconf

import (
	"encoding/xml"
	"os"
	"os/exec"
	"strings"
	"testing"
)

var accounts = []Account{
	{Extension: "201", DisplayName: `Alice "the boss"; <x>`, AuthUser: "201", Password: "Pa55wordAbc"},
	{Extension: "202", DisplayName: "Bob O'Neil & Co", AuthUser: "bob", Password: "Xyz23456789"},
}

func TestPJSIP(t *testing.T) {
	out, err := Write("pjsip", "", accounts)
	if err != nil {
		t.Fatal(err)
	}
	// Parsed as Asterisk reads it: sections, key=value, ';' starts a comment.
	type section map[string]string
	var secs []section
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if i := strings.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "["):
			names = append(names, strings.Trim(line, "[]"))
			secs = append(secs, section{})
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || len(secs) == 0 {
				t.Fatalf("line %q is not key=value in a section", line)
			}
			secs[len(secs)-1][k] = v
		}
	}
	if strings.Join(names, ",") != "201,201-auth,201,202,202-auth,202" {
		t.Fatalf("sections %v", names)
	}
	if secs[0]["callerid"] != `"Alice the boss x" <201>` || secs[1]["password"] != "Pa55wordAbc" || secs[4]["username"] != "bob" || secs[2]["type"] != "aor" {
		t.Fatalf("sections %v", secs)
	}
}

func TestFreeSWITCH(t *testing.T) {
	out, err := Write("freeswitch", "", accounts)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Users []struct {
			ID     string `xml:"id,attr"`
			Params []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"params>param"`
			Vars []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"variables>variable"`
		} `xml:"user"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Users) != 2 || doc.Users[1].ID != "bob" || doc.Users[1].Params[0].Value != "Xyz23456789" ||
		doc.Users[1].Vars[1].Value != "Bob O'Neil & Co" || doc.Users[1].Vars[2].Value != "202" {
		t.Fatalf("%+v", doc)
	}
}

func TestKamailio(t *testing.T) {
	if _, err := Write("kamailio", "", accounts); err == nil {
		t.Fatal("kamailio without a domain")
	}
	out, err := Write("kamailio", "pbx.example.com", append(accounts, Account{Extension: "203", AuthUser: "o'x", Password: "a'b'c'd'e"}))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 2617's example: HA1 of Mufasa:testrealm@host.com:Circle Of Life.
	if got := md5hex("Mufasa:testrealm@host.com:Circle Of Life"); got != "939e7578ed9e3c518a452acee763bce9" {
		t.Fatalf("md5hex = %s", got)
	}
	sqlite, err := exec.LookPath("sqlite3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sqlite3 is not installed (.ci/run installs it)")
		}
		t.Skip("sqlite3 not installed")
	}
	// The subscriber table as Kamailio's auth_db schema defines it.
	schema := `CREATE TABLE subscriber (id INTEGER PRIMARY KEY NOT NULL, username VARCHAR(64) DEFAULT '' NOT NULL,
  domain VARCHAR(64) DEFAULT '' NOT NULL, password VARCHAR(64) DEFAULT '' NOT NULL, ha1 VARCHAR(128) DEFAULT '' NOT NULL,
  ha1b VARCHAR(128) DEFAULT '' NOT NULL, CONSTRAINT subscriber_account_idx UNIQUE (username, domain));
`
	cmd := exec.Command(sqlite, ":memory:")
	cmd.Stdin = strings.NewReader(schema + out + "SELECT username || '|' || password || '|' || ha1 FROM subscriber ORDER BY id;\n")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s\n%s", err, b, out)
	}
	rows := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(rows) != 3 || rows[0] != "201|Pa55wordAbc|"+md5hex("201:pbx.example.com:Pa55wordAbc") || rows[2] != "o'x|a'b'c'd'e|"+md5hex("o'x:pbx.example.com:a'b'c'd'e") {
		t.Fatalf("rows %q", rows)
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := Write("sipxecs", "", accounts); err == nil || !strings.Contains(err.Error(), "pjsip, freeswitch, kamailio") {
		t.Fatal(err)
	}
}
