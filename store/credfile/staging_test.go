package credfile

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
)

func mustNewStaging(t *testing.T, path, profile string, opts ...Option) Staging {
	t.Helper()
	s, err := NewStaging(path, profile, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const stagedOld = "# deploy keys\n[app]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\nregion = eu-west-1\n\n[other]\naws_access_key_id = O\n"

// TestStagingPromote: Put stages the key in the pending profile, which
// leaves the profile alone; Promote moves it into the profile in one write
// and removes the pending profile; promoting it again succeeds and writes
// nothing; a key neither pending nor current is refused (rotate.Stager:
// "promoting the key that is already current succeeds").
func TestStagingPromote(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credentials")
	writeFile(t, path, stagedOld, 0o600)
	st := mustNewStaging(t, path, "app")
	if st.PendingProfile() != "app-pending" {
		t.Errorf("pending profile %q", st.PendingProfile())
	}
	if err := st.Put(ctx, newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{Current: "AKIAOLD", Pending: "AKIANEW"}) {
		t.Fatalf("Holding after Put = %v, %v", h, err)
	}
	staged := stagedOld + "\n[app-pending]\naws_access_key_id = AKIANEW\naws_secret_access_key = " + secret + "\n"
	if got := readFileT(t, path); got != staged {
		t.Fatalf("file after Put = %q, want %q", got, staged)
	}
	for _, id := range []string{"AKIAOLD", "AKIANEW"} {
		if k, err := st.Load(ctx, id); err != nil || k.ID != id {
			t.Errorf("Load(%s) = %v, %v", id, k.ID, err)
		}
	}

	if err := st.Promote(ctx, "AKIAELSE"); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Promote of a key neither pending nor current: %v, want ErrNotHeld", err)
	}
	if err := st.Promote(ctx, ""); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("Promote of no key: %v, want ErrInvalidInput", err)
	}
	if got := readFileT(t, path); got != staged {
		t.Fatalf("a refused Promote changed the file: %q", got)
	}

	if err := st.Promote(ctx, "AKIANEW"); err != nil {
		t.Fatal(err)
	}
	promoted := "# deploy keys\n[app]\naws_access_key_id = AKIANEW\naws_secret_access_key = " + secret + "\nregion = eu-west-1\n\n[other]\naws_access_key_id = O\n"
	if got := readFileT(t, path); got != promoted {
		t.Fatalf("file after Promote = %q, want %q", got, promoted)
	}
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{Current: "AKIANEW"}) {
		t.Fatalf("Holding after Promote = %v, %v", h, err)
	}

	writes := 0
	st.hook = func(point string) error {
		if point == hookCreate {
			writes++
		}
		return nil
	}
	if err := st.Promote(ctx, "AKIANEW"); err != nil || writes != 0 {
		t.Errorf("Promote of the current key: %v after %d writes, want success and none", err, writes)
	}
	if err := st.Promote(ctx, "AKIAOLD"); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Promote of the replaced key: %v, want ErrNotHeld", err)
	}
}

// TestStagingCustomPendingProfile: WithPendingProfile names the profile a
// key waits in.
func TestStagingCustomPendingProfile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credentials")
	st := mustNewStaging(t, path, "app", WithPendingProfile("staged.app"))
	if err := st.Put(ctx, newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	if f := parse([]byte(readFileT(t, path))); f.vals["staged.app"][keyID] != "AKIANEW" {
		t.Fatalf("the key is not in [staged.app]: %q", f.bytes())
	}
	if err := st.Promote(ctx, "AKIANEW"); err != nil {
		t.Fatal(err)
	}
	if got := readFileT(t, path); got != "[app]\naws_access_key_id = AKIANEW\naws_secret_access_key = "+secret+"\n" {
		t.Errorf("file = %q", got)
	}
}

// TestPromoteFaults: after Promote fails, Holding tells where the key is,
// and a retried Promote finishes the job or finds it done.
func TestPromoteFaults(t *testing.T) {
	for _, tt := range []struct {
		point string
		after rotate.Holding
	}{
		{hookCreate, rotate.Holding{Current: "AKIAOLD", Pending: "AKIANEW"}},
		{hookRename, rotate.Holding{Current: "AKIAOLD", Pending: "AKIANEW"}},
		{hookRenamed, rotate.Holding{Current: "AKIANEW"}},
	} {
		t.Run(tt.point, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "credentials")
			writeFile(t, path, stagedOld, 0o600)
			st := mustNewStaging(t, path, "app")
			if err := st.Put(ctx, newKey("AKIANEW")); err != nil {
				t.Fatal(err)
			}
			st.hook = func(point string) error {
				if point == tt.point {
					return errInjected
				}
				return nil
			}
			err := st.Promote(ctx, "AKIANEW")
			if !errors.Is(err, errInjected) {
				t.Fatalf("Promote: %v, want the injected failure", err)
			}
			noSecret(t, err)
			st.hook = nil
			if h, err := st.Holding(ctx); err != nil || h != tt.after {
				t.Errorf("Holding = %v, %v; want %v", h, err, tt.after)
			}
			if err := st.Promote(ctx, "AKIANEW"); err != nil {
				t.Errorf("retried Promote: %v", err)
			}
			if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{Current: "AKIANEW"}) {
				t.Errorf("Holding after the retry = %v, %v", h, err)
			}
		})
	}
}

// TestStagingPutBack: the rotation's way to put the previous key back
// after a promoted key turned out deleted (rotate: latePromote puts the
// previous key and promotes it) works on the file.
func TestStagingPutBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credentials")
	writeFile(t, path, stagedOld, 0o600)
	st := mustNewStaging(t, path, "app")
	prev, err := st.Load(ctx, "AKIAOLD")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, newKey("AKIANEW")); err != nil {
		t.Fatal(err)
	}
	if err := st.Promote(ctx, "AKIANEW"); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, prev); err != nil {
		t.Fatal(err)
	}
	if err := st.Promote(ctx, prev.ID); err != nil {
		t.Fatal(err)
	}
	if got := readFileT(t, path); got != stagedOld {
		t.Errorf("file = %q, want it as it was: %q", got, stagedOld)
	}
}
