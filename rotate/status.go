package rotate

import (
	"strings"
	"time"
)

// A Phase is where a user's rotation stands.
type Phase string

// The phases, in the order a rotation passes them. See the package
// documentation for the state machine.
const (
	PhaseIdle        Phase = "idle"         // no rotation in flight; the key is not due, or the user has none
	PhaseCreating    Phase = "creating"     // the intent is recorded; the new key is being created
	PhaseCreated     Phase = "created"      // the new key exists and is being handed to the store
	PhaseStored      Phase = "stored"       // the store holds the new key; it is being verified
	PhaseOverlapping Phase = "overlapping"  // verified; both keys active until the evidence says consumers moved
	PhaseRetired     Phase = "retired"      // the old key is inactive, waiting to be deleted
	PhaseFinished    Phase = "finished"     // the old key is deleted and the state tag removed
	PhaseRollingBack Phase = "rolling-back" // a rollback was asked for and is not complete
	PhaseRolledBack  Phase = "rolled-back"  // the new key is gone, the old one active, the state tag removed
	PhaseBlocked     Phase = "blocked"      // the reconciler will not act on its own; see Status.Waiting
)

// A Step is one write a rotation makes.
type Step string

// The steps.
const (
	StepBegin          Step = "begin"           // record the intent to rotate (state tag)
	StepCreate         Step = "create"          // CreateAccessKey
	StepAdopt          Step = "adopt"           // record a new key that a crashed attempt created
	StepStore          Step = "store"           // hand the new key to the store
	StepMarkStored     Step = "mark-stored"     // record that the store holds the new key
	StepVerify         Step = "verify"          // run the verifier, promote in a staging store, record it
	StepMarkVerified   Step = "mark-verified"   // record verification shown by the store or the key's use
	StepRetire         Step = "retire"          // deactivate the old key and record when
	StepMarkRetired    Step = "mark-retired"    // record an old key someone else deactivated
	StepUnretire       Step = "unretire"        // the old key is active again: back to overlapping
	StepReactivateOld  Step = "reactivate-old"  // reactivate the old key this rotation deactivated
	StepDeleteOld      Step = "delete-old"      // delete the retired old key
	StepDeleteOrphan   Step = "delete-orphan"   // delete a new key whose secret no store holds
	StepDeleteInactive Step = "delete-inactive" // delete an inactive key in the other slot (Policy.DeleteInactive)
	StepDeleteNew      Step = "delete-new"      // rollback: delete the new key
	StepRollback       Step = "rollback"        // record that a rollback was asked for
	StepResume         Step = "resume"          // a recorded rollback that cannot proceed gives way to the rotation
	StepClear          Step = "clear"           // remove the state tag
)

// An Action is a write that a call made.
type Action struct {
	Step  Step
	KeyID string    // the key it concerns, if any
	At    time.Time // IAM's time of the write
}

// String formats the action as "step key".
func (a Action) String() string {
	if a.KeyID == "" {
		return string(a.Step)
	}
	return string(a.Step) + " " + a.KeyID
}

// A Status is where a user's rotation stands after a call, and what it waits
// for. It is read from IAM and the store; no Go value needs to survive
// between calls.
type Status struct {
	User     string
	UserID   string
	Phase    Phase
	OldKeyID string // the key being replaced, or the user's key when idle
	NewKeyID string // the new key, once known
	// Did lists the writes this call made, in order.
	Did []Action
	// Waiting says what the next step waits for, e.g. "old key used 12m0s
	// ago; retires after a quiet 24h0m0s". Empty when the rotation is done
	// or nothing is due.
	Waiting string
	// NextCheck is IAM's time at which the awaited condition may hold, when
	// that can be known (the end of a quiet window, a lease); zero
	// otherwise. A scheduler can use it as controller-runtime's
	// RequeueAfter.
	NextCheck time.Time
	// Warnings are what the call noticed without stopping.
	Warnings []string
	// At is IAM's time of the last observation.
	At time.Time
}

// String is a one-line summary: "user phase old→new: waiting".
func (s Status) String() string {
	var b strings.Builder
	b.WriteString(s.User + " " + string(s.Phase))
	if s.OldKeyID != "" || s.NewKeyID != "" {
		b.WriteString(" " + s.OldKeyID)
		if s.NewKeyID != "" {
			b.WriteString("→" + s.NewKeyID)
		}
	}
	if len(s.Did) > 0 {
		parts := make([]string, len(s.Did))
		for i, a := range s.Did {
			parts[i] = string(a.Step)
		}
		b.WriteString(" did " + strings.Join(parts, ","))
	}
	if s.Waiting != "" {
		b.WriteString(": " + s.Waiting)
	}
	return b.String()
}

// InFlight reports whether a rotation is under way.
func (s Status) InFlight() bool {
	switch s.Phase {
	case PhaseIdle, PhaseFinished, PhaseRolledBack:
		return false
	}
	return s.Phase != PhaseBlocked || s.NewKeyID != ""
}
