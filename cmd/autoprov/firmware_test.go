package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/server/apispec"
)

const fwQuery = "?vendor=yealink&version=96.86.0.100&models=T54W,T57W&name=T54W-96.86.0.100.rom"

type fwOut struct {
	ID      int64
	Vendor  string
	Models  []string
	Version string
	Name    string
	Size    int64
	SHA256  string
	Path    string
}

func randomImage(t *testing.T, n int) ([]byte, string) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// upload POSTs body to /api/v1/firmware with the query and content type.
func (s *server) upload(query, contentType string, body io.Reader) (int, fwOut, string) {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.base+"/api/v1/firmware"+query, body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := (&http.Client{Transport: apispec.Transport(s.t, nil)}).Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var f fwOut
	json.Unmarshal(raw, &f)
	return resp.StatusCode, f, string(raw)
}

// multipartBody builds a form with the fields (in order) and the file last.
func multipartBody(t *testing.T, fields [][2]string, filename string, data []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// firmwareFiles lists <data>/firmware.
func firmwareFiles(t *testing.T, data string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(data, "firmware"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func (s *server) firmwareList() []fwOut {
	s.t.Helper()
	var list struct{ Items []fwOut }
	s.must(200, "GET", "/api/v1/firmware", nil, &list)
	return list.Items
}

// downloads reads the download records from the server's database.
func downloads(t *testing.T, data, mac string) []autoprov.FirmwareDownload {
	t.Helper()
	k, err := loadKeyring(data, "", false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(filepath.Join(data, "autoprov.db"), k)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.FirmwareDownloads(context.Background(), mac)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestFirmwareUploadDownload: an image uploaded streamed, and again as
// multipart for another version, is stored once and downloads
// byte-identical over HTTP (whole, 304, Range 206) and TFTP (tftp-hpa;
// atftp with blksize 1468 and tsize), each download recorded for the
// device that made it.
func TestFirmwareUploadDownload(t *testing.T) {
	s := start(t)
	img, want := randomImage(t, 3<<20+123)
	s.must(201, "POST", "/api/v1/devices", map[string]any{"mac": "80:5E:C0:AA:BB:01", "model": "T54W"}, nil)

	code, f, raw := s.upload(fwQuery, "application/octet-stream", bytes.NewReader(img))
	if code != 201 || f.SHA256 != want || f.Size != int64(len(img)) || strings.Join(f.Models, ",") != "T54W,T57W" || f.Version != "96.86.0.100" {
		t.Fatalf("streamed upload: %d %s", code, raw)
	}
	if f.Path != "/firmware/"+want[:16]+"/T54W-96.86.0.100.rom" {
		t.Errorf("path %q", f.Path)
	}
	dir := filepath.Join(s.data, "firmware")
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("firmware dir: %v %v", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Join(dir, want)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("firmware file: %v", err)
	}
	// The same upload again: the same entry (200), still one file.
	if code, again, raw := s.upload(fwQuery, "application/octet-stream", bytes.NewReader(img)); code != 200 || again.ID != f.ID {
		t.Errorf("same upload again: %d %s", code, raw)
	}
	// The same bytes as multipart, for another version: a new entry, the same file.
	ct, body := multipartBody(t, [][2]string{{"vendor", "yealink"}, {"version", "96.86.0.101"}, {"models", "T54W"}}, `C:\fw\T54W-96.86.0.101.rom`, img)
	code, f2, raw := s.upload("", ct, body)
	if code != 201 || f2.ID == f.ID || f2.SHA256 != want || f2.Name != "T54W-96.86.0.101.rom" {
		t.Fatalf("multipart upload: %d %s", code, raw)
	}
	if files := firmwareFiles(t, s.data); len(files) != 1 || files[0] != want {
		t.Errorf("files stored: %v, want the one %s", files, want)
	}
	// Another model's version already taken by another file: 409.
	other, _ := randomImage(t, 1000)
	if code, _, raw := s.upload("?vendor=yealink&version=96.86.0.100&models=T57W&name=x.rom", "application/octet-stream", bytes.NewReader(other)); code != 409 {
		t.Errorf("a model's version twice: %d %s", code, raw)
	}
	if len(firmwareFiles(t, s.data)) != 1 {
		t.Errorf("the refused upload left a file: %v", firmwareFiles(t, s.data))
	}

	ua := "Yealink SIP-T54W 96.85.0.5 80:5e:c0:aa:bb:01"
	code, got, h := s.get(f.Path, ua)
	if code != 200 || sum(got) != want || h.Get("ETag") != `"`+want+`"` || h.Get("Content-Length") != fmt.Sprint(len(img)) {
		t.Fatalf("GET: %d, %d bytes, etag %q, length %q", code, len(got), h.Get("ETag"), h.Get("Content-Length"))
	}
	if code, got, _ := s.get("/prov"+f2.Path, ""); code != 200 || sum(got) != want {
		t.Errorf("GET under /prov/: %d", code)
	}
	req, _ := http.NewRequest("GET", s.base+f.Path, nil)
	req.Header.Set("Range", "bytes=1000000-1999999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(part, img[1000000:2000000]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000000-1999999/%d", len(img)) {
		t.Errorf("Range: %d, %d bytes, %q", resp.StatusCode, len(part), resp.Header.Get("Content-Range"))
	}
	req, _ = http.NewRequest("GET", s.base+f.Path, nil)
	req.Header.Set("If-None-Match", `"`+want+`"`)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %v %v", resp.Status, err)
	} else {
		resp.Body.Close()
	}
	for _, p := range []string{"/firmware/" + want[:16] + "/other.rom", "/firmware/0000000000000000/T54W-96.86.0.100.rom", "/firmware/" + want} {
		if code, _, _ := s.get(p, ""); code != 404 {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}

	// The download was recorded for the device its User-Agent names.
	ds := downloads(t, s.data, "805ec0aabb01")
	if len(ds) != 1 || ds[0].FirmwareID != f.ID || ds[0].Outcome != autoprov.DownloadCompleted || ds[0].Bytes != int64(len(img)) || ds[0].Completed != 1 {
		t.Errorf("download records: %+v", ds)
	}
	if !strings.Contains(s.log.String(), "mac=805ec0aabb01") || !strings.Contains(s.log.String(), "outcome=completed") {
		t.Errorf("no download line in the log:\n%s", s.log.String())
	}

	// The phone fetches its own file: the server now knows its address.
	if code, _, _ := s.get("/prov/805ec0aabb01.cfg", ua); code != 200 {
		t.Fatalf("the phone's own file: %d", code)
	}
	// TFTP: tftp-hpa (512-byte blocks), and atftp with blksize 1468 and tsize.
	name := strings.TrimPrefix(f.Path, "/")
	if body, ok := s.tftp(name); !ok || sum(body) != want {
		t.Errorf("tftp-hpa: ok %v, %d bytes: %s", ok, len(body), body[:min(len(body), 200)])
	}
	atftp, err := exec.LookPath("atftp")
	if err != nil {
		skipOrFail(t, "atftp not installed (apt-get install atftp)")
	}
	out := filepath.Join(t.TempDir(), "atftp")
	cmd := exec.Command(atftp, "--option", "blksize 1468", "--option", "tsize 0", "--trace", "-g", "-r", "prov/"+name, "-l", out, "127.0.0.1", s.tftpPort)
	msg, err := cmd.CombinedOutput()
	gotA, rerr := os.ReadFile(out)
	if err != nil || rerr != nil || sum(gotA) != want {
		t.Errorf("atftp: %v %v, %d bytes: %s", err, rerr, len(gotA), msg)
	}
	if oack := fmt.Sprintf("received OACK <tsize: %d, blksize: 1468", len(img)); !strings.Contains(string(msg), oack) {
		t.Errorf("atftp did not negotiate blksize and tsize: %s", msg)
	}
	// TFTP carries no User-Agent: the device is the one last seen at the
	// address, here since its fetch of its own file (above, before TFTP).
	// The server records the end when the last ACK arrives, which may be
	// after atftp has exited: wait for it.
	waitFor(t, 30*time.Second, func() (bool, string) {
		ds = downloads(t, s.data, "805ec0aabb01")
		return len(ds) == 1 && ds[0].Transport == "tftp" && ds[0].Completed == 3 && ds[0].Outcome == autoprov.DownloadCompleted && ds[0].RemoteIP == "127.0.0.1",
			fmt.Sprintf("%+v", ds)
	}, "download records after TFTP")
}

// TestFirmwareUploadRefused: a wrong vendor or model is a 400 naming the
// supported ones; over the cap is 413 (announced or not); an upload cut
// half-way leaves nothing: neither file nor row.
func TestFirmwareUploadRefused(t *testing.T) {
	s := start(t, "--firmware-max-bytes", "1048576")
	img, _ := randomImage(t, 4096)
	for q, want := range map[string]string{
		"?vendor=acme&version=1&models=T54W&name=a.rom":      "supported: cisco, gigaset, openstage, snom, yealink",
		"?vendor=yealink&version=1&models=X99&name=a.rom":    "T54W",
		"?vendor=yealink&version=1&models=T54W&name=../a":    "name may hold only",
		"?vendor=yealink&version=1&models=T54W":              "name is required",
		"?vendor=yealink&version=1 2&models=T54W&name=a.rom": "version may hold only",
	} {
		code, _, raw := s.upload(strings.ReplaceAll(q, " ", "%20"), "application/octet-stream", bytes.NewReader(img))
		if code != 400 || !strings.Contains(raw, want) {
			t.Errorf("%s: %d %s, want 400 with %q", q, code, raw, want)
		}
	}
	ct, body := multipartBody(t, [][2]string{{"vendor", "yealink"}, {"version", "1"}, {"models", "D785"}}, "a.rom", img)
	if code, _, raw := s.upload("", ct, body); code != 400 || !strings.Contains(raw, "T54W") {
		t.Errorf("multipart with a wrong model: %d %s", code, raw)
	}

	big, _ := randomImage(t, 1<<20+1)
	q := "?vendor=yealink&version=1&models=T54W&name=a.rom"
	if code, _, raw := s.upload(q, "application/octet-stream", bytes.NewReader(big)); code != 413 || !strings.Contains(raw, "1048576") {
		t.Errorf("over the cap (Content-Length): %d %s", code, raw)
	}
	// Chunked: the cap is found while streaming.
	if code, _, raw := s.upload(q, "application/octet-stream", io.MultiReader(bytes.NewReader(big))); code != 413 {
		t.Errorf("over the cap (chunked): %d %s", code, raw)
	}
	ct, body = multipartBody(t, [][2]string{{"vendor", "yealink"}, {"version", "1"}, {"models", "T54W"}}, "a.rom", big)
	if code, _, raw := s.upload("", ct, io.MultiReader(body)); code != 413 {
		t.Errorf("over the cap (multipart, chunked): %d %s", code, raw)
	}

	// Cut half-way: the client announces 1 MiB, sends half and hangs up.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/firmware%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", q, s.token, 1<<20)
	half, _ := randomImage(t, 512<<10)
	conn.Write(half)
	waitFor(t, 30*time.Second, func() (bool, string) {
		files := firmwareFiles(t, s.data)
		for _, n := range files {
			if strings.HasPrefix(n, ".upload-") {
				return true, ""
			}
		}
		return false, fmt.Sprint(files)
	}, "the upload is on disk")
	conn.Close()
	waitFor(t, 30*time.Second, func() (bool, string) {
		return strings.Contains(s.log.String(), "firmware upload broken off"), ""
	}, "the server sees the upload broken off")
	if files := firmwareFiles(t, s.data); len(files) != 0 {
		t.Errorf("files left after refused uploads: %v", files)
	}
	if list := s.firmwareList(); len(list) != 0 {
		t.Errorf("rows left after refused uploads: %+v", list)
	}
}

// TestFirmwareCLI: "autoprov firmware add/list" against a data directory,
// then against the server running on it.
func TestFirmwareCLI(t *testing.T) {
	data := t.TempDir()
	img, want := randomImage(t, 200000)
	file := filepath.Join(t.TempDir(), "T54W-96.86.0.100.rom")
	if err := os.WriteFile(file, img, 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(env map[string]string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		err := firmwareCommand(context.Background(), args, lookup, &out, &errOut)
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, errOut.String())
		}
		return out.String(), err
	}
	out, err := cli(nil, "add", file, "--data", data, "--vendor", "yealink", "--models", "T54W,T57W", "--version", "96.86.0.100")
	if err != nil || !strings.Contains(out, want) || !strings.Contains(out, "/firmware/"+want[:16]+"/T54W-96.86.0.100.rom") {
		t.Fatalf("add: %v\n%s", err, out)
	}
	if _, err := cli(nil, "add", file, "--data", data, "--vendor", "yealink", "--models", "T99", "--version", "1"); err == nil || !strings.Contains(err.Error(), "T54W") {
		t.Errorf("add with a wrong model: %v", err)
	}
	out, err = cli(nil, "list", "--data", data)
	if err != nil || !strings.Contains(out, "T54W,T57W") || !strings.Contains(out, "96.86.0.100") {
		t.Errorf("list: %v\n%s", err, out)
	}

	s := startWith(t, data)
	if code, got, _ := s.get("/firmware/"+want[:16]+"/T54W-96.86.0.100.rom", ""); code != 200 || sum(got) != want {
		t.Fatalf("the CLI's upload is not served: %d", code)
	}
	env := map[string]string{"AUTOPROV_ADMIN_TOKEN": s.token}
	out, err = cli(env, "add", file, "--server", s.base, "--vendor", "yealink", "--models", "T54W", "--version", "96.86.0.101", "--name", "T54W-96.86.0.101.rom")
	if err != nil || !strings.Contains(out, "96.86.0.101") {
		t.Fatalf("add --server: %v\n%s", err, out)
	}
	if _, err := cli(map[string]string{"AUTOPROV_ADMIN_TOKEN": "wrong-token-wrong-token-wrong"}, "list", "--server", s.base); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("list with a wrong token: %v", err)
	}
	out, err = cli(env, "list", "--server", s.base)
	if err != nil || !strings.Contains(out, "96.86.0.100") || !strings.Contains(out, "96.86.0.101") {
		t.Errorf("list --server: %v\n%s", err, out)
	}
	if files := firmwareFiles(t, data); len(files) != 1 {
		t.Errorf("the same bytes twice are stored %d times: %v", len(files), files)
	}
}

// TestFirmwarePhoneNetworks: the download routes are phone routes: a
// client outside --phone-networks gets 404 for a file that exists, over
// HTTP and TFTP.
func TestFirmwarePhoneNetworks(t *testing.T) {
	s := start(t, "--phone-networks", "10.0.0.0/8")
	img, _ := randomImage(t, 5000)
	code, f, raw := s.upload(fwQuery, "application/octet-stream", bytes.NewReader(img))
	if code != 201 {
		t.Fatalf("upload: %d %s", code, raw)
	}
	for _, p := range []string{f.Path, "/prov" + f.Path} {
		if code, _, _ := s.get(p, ""); code != 404 {
			t.Errorf("GET %s from outside the phone networks: %d, want 404", p, code)
		}
	}
	if body, ok := s.tftp(strings.TrimPrefix(f.Path, "/")); ok {
		t.Errorf("TFTP from outside the phone networks: %d bytes", len(body))
	}
}
