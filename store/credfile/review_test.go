package credfile

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys/rotate"
)

// TestReviewPutAgainFailsEarly: a Put of a key the file holds already (an
// earlier Put applied) that fails before the rename (here its context is
// done) must not wrap ErrNotStored, which tells the rotation to delete the
// key at once (rotate.ErrNotStored): consumers read it, or, staged, it is
// Promote's to make current.
func TestReviewPutAgainFailsEarly(t *testing.T) {
	for _, staging := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "credentials")
		writeFile(t, path, stagedOld, 0o600)
		var st rotate.Store = mustNew(t, path, "app")
		if staging {
			st = mustNewStaging(t, path, "app")
		}
		k := newKey("AKIANEW")
		if err := st.Put(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := st.Put(ctx, k)
		noSecret(t, err)
		if errors.Is(err, rotate.ErrNotStored) {
			t.Errorf("staging %v: Put = %v, wrapping ErrNotStored though the file holds the key", staging, err)
		}
	}
}

// TestReviewStagingPutOfCurrentKey: a staging Put of the key that is
// current already (a Put re-run after Promote) leaves the file alone, so
// that Holding does not report the current key as pending too, and no
// pending profile lingers with a copy of the key ("Pending: the one staged
// but not yet current", rotate.Holding).
func TestReviewStagingPutOfCurrentKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credentials")
	writeFile(t, path, stagedOld, 0o600)
	st := mustNewStaging(t, path, "app")
	k := newKey("AKIANEW")
	if err := st.Put(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := st.Promote(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	promoted := readFileT(t, path)
	if err := st.Put(ctx, k); err != nil {
		t.Fatal(err)
	}
	if h, err := st.Holding(ctx); err != nil || h != (rotate.Holding{Current: k.ID}) {
		t.Errorf("Holding = %+v, %v; want the key current only", h, err)
	}
	if got := readFileT(t, path); got != promoted || strings.Contains(got, "[app-pending]") {
		t.Errorf("the Put of the current key rewrote the file")
	}
}
