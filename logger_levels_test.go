package iamkeys_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// levelRecorder is a slog.Handler that keeps each record's level and message.
type levelRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *levelRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}
func (r *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *levelRecorder) WithGroup(string) slog.Handler      { return r }

// TestLoggerLevels pins what WithLogger's doc promises: every change the
// Manager makes is one Info record, and nothing is logged at another level,
// even with a handler that enables every level.
func TestLoggerLevels(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	rec := &levelRecorder{}
	m, err := iamkeys.New(srv.Client(), iamkeys.WithLogger(slog.New(rec)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.EnsureUser(ctx, "alice", iamkeys.WithInlinePolicy("read", readOnlyS3)); err != nil {
		t.Fatal(err)
	}
	k, err := m.CreateKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetStatus(ctx, "alice", k.ID, iamkeys.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteKey(ctx, "alice", k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ListKeys(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_ = m.DeleteUser(ctx, "alice") // a failure: an error, not a record

	var msgs []string
	for _, r := range rec.records {
		msgs = append(msgs, r.Message)
		if r.Level != slog.LevelInfo {
			t.Errorf("record %q at %v, want Info", r.Message, r.Level)
		}
	}
	// At least: user created, policy put, key created, status set, key
	// deleted, user deleted (DeleteUser may log what it removes first).
	if len(msgs) < 6 {
		t.Errorf("records %q, want one per change (6 or more)", msgs)
	}
}

// TestDeleteUserLogsEachRemoval: DeleteUser logs one record per dependent
// it removed, the virtual MFA device's deletion included, as WithLogger's
// "one record per change" says.
func TestDeleteUserLogsEachRemoval(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	if _, err := srv.AddUser("bob"); err != nil {
		t.Fatal(err)
	}
	serial, err := srv.AddMFADevice("bob", true)
	if err != nil {
		t.Fatal(err)
	}
	rec := &levelRecorder{}
	m, err := iamkeys.New(srv.Client(), iamkeys.WithLogger(slog.New(rec)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteUser(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	parts := map[string]bool{}
	for _, r := range rec.records {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "part" {
				parts[a.Value.String()] = true
			}
			return true
		})
	}
	for _, want := range []string{"deactivate MFA device", "delete virtual MFA device"} {
		if !parts[want] {
			t.Errorf("no %q record for %s; parts logged: %v", want, serial, parts)
		}
	}
}
