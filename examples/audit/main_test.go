package main

import "testing"

// TestRun runs the example end to end: seeding, both audits, JSON.
func TestRun(t *testing.T) {
	if err := run(t.Context(), true); err != nil {
		t.Fatal(err)
	}
}
