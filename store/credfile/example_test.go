package credfile_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/credfile"
)

// Example rotates the key in profile app of a credentials file, staging the
// new key until it has verified, against an in-memory IAM endpoint.
func Example() {
	ctx := context.Background()
	clock := iamkeystest.NewClock(time.Date(2031, 6, 1, 2, 0, 0, 0, time.UTC))
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clock))
	defer srv.Close()
	if _, err := srv.AddUser("app"); err != nil {
		log.Fatal(err)
	}
	old, err := srv.AddKey("app", "Active", clock.Now().AddDate(0, 0, -100))
	if err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "credfile-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials")
	content := fmt.Sprintf("[app]\naws_access_key_id = %s\naws_secret_access_key = %s\n", old.ID, old.Secret)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		log.Fatal(err)
	}

	store, err := credfile.NewStaging(path, "app")
	if err != nil {
		log.Fatal(err)
	}
	r, err := rotate.New(srv.Client(),
		rotate.WithClock(clock),
		rotate.WithVerifier(rotate.STSVerifier{Config: srv.Config(), Clock: clock}.Verify))
	if err != nil {
		log.Fatal(err)
	}
	st, err := r.Reconcile(ctx, "app", store)
	if err != nil {
		log.Fatal(err)
	}
	h, err := store.Holding(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("phase:", st.Phase)
	fmt.Println("profile app holds the new key:", h.Current == st.NewKeyID && h.Current != old.ID)
	fmt.Printf("pending: %q\n", h.Pending)
	// Output:
	// phase: overlapping
	// profile app holds the new key: true
	// pending: ""
}
