package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/internal/sealed"
	"github.com/autoprov/autoprov/server/provision"
	"github.com/autoprov/autoprov/vendors/all"
)

// killChildEnv names the database the child process of
// TestKillDuringCreations creates devices in.
const killChildEnv = "AUTOPROV_TEST_KILL_CHILD_DSN"

// killChildKeyEnv hands the child the parent's keyring: the rows it adds
// must open with the keys the parent reads them with.
const killChildKeyEnv = "AUTOPROV_TEST_KILL_CHILD_KEYS"

// killMACs is how many devices the child tries to create.
const killMACs = 1000

func killMAC(i int) string { return fmt.Sprintf("00156510%04x", i) }

// TestKillDuringCreations (issue 5, item 8): a child process creating
// 1,000 devices through the core (each with an account, so each opens a
// disclosure window) is killed with SIGKILL mid-burst. In the database
// every device present is whole: its account, an open window, and its
// device.created and disclosure.opened audit rows. None is half-made.
func TestKillDuringCreations(t *testing.T) { eachBackend(t, testKillDuringCreations) }

func testKillDuringCreations(t *testing.T, dsn string) {
	s := open(t, dsn)
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, autoprov.Account{Extension: "201", DisplayName: "Alice", AuthUser: "201", Password: "secret-201"}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dsn, killChildKeyEnv+"="+string(testKeys.Encode()))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it somewhere in the middle of the burst, at a random device.
	killAt := 100 + rand.IntN(600)
	created := 0
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "created ") {
			created++
			if created == killAt {
				// Not at a line (the child just finished a device then) but
				// at a random moment of the next few creations.
				time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	for sc.Scan() { // what it printed before it died
		if strings.HasPrefix(sc.Text(), "created ") {
			created++
		}
	}
	err = cmd.Wait()
	if created < killAt {
		t.Fatalf("the child created %d devices and ended (%v) before it was killed at %d", created, err, killAt)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", err)
	}

	// Reopen, as a restarted server would.
	s2 := open(t, dsn)
	ds, err := s2.Devices(ctx, autoprov.DeviceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < created || len(ds) > created+1 {
		t.Errorf("%d devices after the kill, want the %d the child reported or one more (the one in flight)", len(ds), created)
	}
	events, err := s2.Audit(ctx, "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]map[string]int{}
	for _, e := range events {
		if audited[e.MAC] == nil {
			audited[e.MAC] = map[string]int{}
		}
		audited[e.MAC][e.Event]++
	}
	half := 0
	for _, d := range ds {
		a := audited[d.MAC]
		if len(d.Accounts) != 1 || d.Accounts[0] != "201" || d.Disclosure.State != autoprov.DisclosureOpen ||
			a[autoprov.EventDeviceCreated] != 1 || a[autoprov.EventDisclosureOpened] != 1 {
			half++
			if half <= 5 {
				t.Errorf("half-made device %s: accounts %v, window %s, audit %v", d.MAC, d.Accounts, d.Disclosure.State, a)
			}
		}
	}
	if half > 0 {
		t.Errorf("%d of %d devices half-made after kill -9", half, len(ds))
	}
	// Audit rows only for devices that exist.
	for mac := range audited {
		if _, err := s2.Device(ctx, mac); err != nil && mac != "" {
			t.Errorf("audit rows for %s, which does not exist: %v", mac, err)
		}
	}
	t.Logf("killed after %d creations reported; %d devices, all whole", created, len(ds))
}

// TestKillChild is the child process of TestKillDuringCreations: it
// creates devices until it is killed. Skipped unless started by it.
func TestKillChild(t *testing.T) {
	dsn := os.Getenv(killChildEnv)
	if dsn == "" {
		t.Skip("the child process of TestKillDuringCreations")
	}
	keys, err := sealed.Parse(os.Getenv(killChildKeyEnv)) // the parent's keyring
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dsn, WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := all.Registry("")
	if err != nil {
		t.Fatal(err)
	}
	_, inv := provision.New(provision.Options{Registry: reg}, s)
	accounts := []string{"201"}
	model := "T54W"
	for i := range killMACs {
		mac := killMAC(i)
		if _, err := inv.CreateDevice(context.Background(), autoprov.DeviceInput{MAC: &mac, Model: &model, Accounts: &accounts}, "test"); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("created %s\n", mac)
	}
}
