package credfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/iamkeys/iamkeys/rotate"
)

// The helper process: the test binary re-run with helperEnv set, to write
// from another process.
const helperEnv = "CREDFILE_TEST_HELPER"

// TestHelperProcess is not a test: run by the tests below in a child
// process, it writes profiles (mode "put": profiles <prefix>0 to
// <prefix><n-1>) or holds the file's lock until its stdin closes (mode
// "hold").
func TestHelperProcess(t *testing.T) {
	var mode, path, prefix string
	var n int
	if _, err := fmt.Sscan(os.Getenv(helperEnv), &mode, &path, &prefix, &n); err != nil {
		return
	}
	ctx := context.Background()
	switch mode {
	case "put":
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin) // the start signal: stdin closes
		for i := range n {
			p := fmt.Sprintf("%s%d", prefix, i)
			st, err := New(path, p)
			if err == nil {
				err = st.Put(ctx, newKey(keyIDFor(p)))
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	case "hold":
		unlock, err := lock(ctx, path+".lock", func() {})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		unlock()
	}
	os.Exit(0)
}

func helper(t *testing.T, args ...any) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot re-run the test binary: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+fmt.Sprintln(args...))
	cmd.Stderr = os.Stderr
	return cmd
}

func pipes(t *testing.T, cmd *exec.Cmd) (io.WriteCloser, io.Reader) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	return stdin, stdout
}

func keyIDFor(profile string) string { return "AKIA" + profile }

// TestConcurrentWriters: goroutines here and two other processes write
// different profiles of one file at once; none of the profiles is lost.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	writeFile(t, path, "# shared\n[keep]\nregion = r\n", 0o600)
	const perWriter = 15
	var children []*exec.Cmd
	var starts []io.Closer
	for _, prefix := range []string{"procA", "procB"} {
		cmd := helper(t, "put", path, prefix, perWriter)
		stdin, stdout := pipes(t, cmd)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill() // a no-op once it has exited
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("writer process: %q, %v", line, err)
		}
		children, starts = append(children, cmd), append(starts, stdin)
	}
	for _, c := range starts {
		c.Close() // all start at once
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*perWriter)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				p := fmt.Sprintf("g%d-%d", g, i)
				st, err := New(path, p)
				if err == nil {
					err = st.Put(context.Background(), newKey(keyIDFor(p)))
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range children {
		if err := c.Wait(); err != nil {
			t.Fatalf("writer process: %v", err)
		}
	}

	f := parse([]byte(readFileT(t, path)))
	var want []string
	for _, prefix := range []string{"procA", "procB"} {
		for i := range perWriter {
			want = append(want, fmt.Sprintf("%s%d", prefix, i))
		}
	}
	for g := range 8 {
		for i := range perWriter {
			want = append(want, fmt.Sprintf("g%d-%d", g, i))
		}
	}
	for _, p := range want {
		if id, s, _ := f.key(p); id != keyIDFor(p) || s != secret {
			t.Errorf("profile %s holds %q", p, id)
		}
	}
	if vals := f.vals["keep"]; vals["region"] != "r" {
		t.Errorf("profile keep lost its region: %v", vals)
	}
}

// TestLockAcrossProcesses: while another process holds the file's lock, a
// Put waits, and goes ahead once the lock is released.
func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	cmd := helper(t, "hold", path, "-", 0)
	stdin, stdout := pipes(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
		stdin.Close()
		t.Fatalf("helper: %q, %v", line, err)
	}
	st := mustNew(t, path, "app")
	var once sync.Once
	waited := false
	st.hook = func(point string) error {
		if point == hookLockBusy {
			waited = true
			once.Do(func() { stdin.Close() }) // the other process lets go
		}
		return nil
	}
	if err := st.Put(context.Background(), newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	if !waited {
		t.Error("Put did not wait for the other process's lock")
	}
	if h, err := st.Holding(context.Background()); err != nil || h.Current != "AKIANEW" {
		t.Errorf("Holding = %v, %v", h, err)
	}
}

// TestLockWaitHonoursContext: a Put waiting for the lock gives up when its
// context ends, with ErrNotStored and the file untouched.
func TestLockWaitHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	writeFile(t, path, "[app]\naws_access_key_id = AKIAOLD\n", 0o600)
	unlock, err := lock(context.Background(), path+".lock", func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	st := mustNew(t, path, "app")
	st.hook = func(point string) error {
		if point == hookLockBusy {
			cancel()
		}
		return nil
	}
	err = st.Put(ctx, newKey("AKIANEW"))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, rotate.ErrNotStored) {
		t.Errorf("Put while the file is locked: %v, want Canceled and ErrNotStored", err)
	}
	if got := readFileT(t, path); got != "[app]\naws_access_key_id = AKIAOLD\n" {
		t.Errorf("file changed: %q", got)
	}
}
