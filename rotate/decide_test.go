package rotate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/internal/iammodel"
)

// Hand-built worlds for decide. Names carry a dt prefix so that other test
// files of the package can grow their own helpers.

const (
	dtOld   = "AKIAOLD0000000000001"
	dtNew   = "AKIANEW0000000000002"
	dtOther = "AKIAOTH0000000000003"
	dtLease = 10 * time.Minute
)

// dtT0 is the IAM time the hand-built rotations begin at.
var dtT0 = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

// dtPolicy is the policy of every row unless a row says otherwise.
var dtPolicy = Policy{Quiet: 2 * time.Hour, LastUseLag: time.Hour, DeleteAfter: 24 * time.Hour}.withDefaults()

func dtKey(id string, st iamkeys.Status, created time.Time) iamkeys.Key {
	return iamkeys.Key{ID: id, UserName: "app", Status: st, Created: created}
}

// dtOldKey is the key being rotated: 100 days old, active.
func dtOldKey() iamkeys.Key { return dtKey(dtOld, iamkeys.StatusActive, dtT0.Add(-100*24*time.Hour)) }

// dtNewKey is the rotation's new key, created at dtT0+1s.
func dtNewKey(st iamkeys.Status) iamkeys.Key { return dtKey(dtNew, st, dtT0.Add(time.Second)) }

// dtWorld is an observation at now of the given keys, the store holding the
// old key, nothing used.
func dtWorld(now time.Time, keys ...iamkeys.Key) *world {
	return &world{
		now:  now,
		user: iamkeys.User{Name: "app", ID: "AIDAAPP00000000000001", Tags: map[string]string{}},
		keys: keys,
		use:  map[string]iamkeys.LastUse{},
		hold: Holding{Current: dtOld},
	}
}

// The records of each phase of one rotation: begun at dtT0, new key stored
// and verified at dtT0+1m, old key retired at dtT0+5h.
func dtCreating() record {
	return record{ID: "a1b2c3d4", Phase: phaseCreating, Old: dtOld, Begun: dtT0, Lease: dtT0.Add(dtLease)}
}

func dtCreated() record {
	r := dtCreating()
	r.Phase, r.New = phaseCreated, dtNew
	return r
}

func dtStored() record {
	r := dtCreated()
	r.Phase, r.Stored, r.Lease = phaseStored, dtT0.Add(time.Minute), time.Time{}
	return r
}

func dtVerified() record {
	r := dtStored()
	r.Phase, r.Verified = phaseVerified, dtT0.Add(time.Minute)
	return r
}

func dtRetired() record {
	r := dtVerified()
	r.Phase, r.Retired, r.Retirer = phaseRetired, dtT0.Add(5*time.Hour), true
	return r
}

func dtRollback(from record) record {
	from.Phase = phaseRollback
	return from
}

// world modifiers
func dtRec(w *world, r record) *world { w.rec = &r; return w }

func dtUse(w *world, id string, at time.Time) *world {
	w.use[id] = iamkeys.LastUse{KeyID: id, UserName: "app", Used: true, At: at, Service: "sts", Region: "us-east-1"}
	return w
}

func dtHold(w *world, h Holding) *world { w.hold = h; return w }

func dtHoldErr(w *world) *world {
	w.hold, w.holdErr = Holding{}, errors.New("store unreachable")
	return w
}

func dtStager(w *world) *world { w.stager, w.loader = true, true; return w }
func dtLoader(w *world) *world { w.loader = true; return w }

// dtOverlap is an overlapping world in which the old key may retire at
// retireAt: a consumer used the new key at dtT0+1h, and the old key was last
// used before the store took the new key.
func dtOverlap(now time.Time) *world {
	w := dtRec(dtWorld(now, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtVerified())
	w.hold = Holding{Current: dtNew}
	dtUse(w, dtNew, dtT0.Add(time.Hour))
	dtUse(w, dtOld, dtT0.Add(-time.Hour))
	return w
}

// dtRetiredWorld: old key inactive since dtT0+5h, new key current.
func dtRetiredWorld(now time.Time) *world {
	o := dtOldKey()
	o.Status = iamkeys.StatusInactive
	w := dtRec(dtWorld(now, o, dtNewKey(iamkeys.StatusActive)), dtRetired())
	w.hold = Holding{Current: dtNew}
	return w
}

type decideRow struct {
	name  string
	w     *world
	p     *Policy // nil: dtPolicy
	v     view
	step  Step
	key   string
	phase Phase
	err   error     // errors.Is target; nil: no error
	next  time.Time // the decision's next check
	// check looks at anything else the row pins, e.g. the record written.
	check func(t *testing.T, d decision)
}

// TestDecide has one row per branch of decide.go, with the boundary times
// exactly at and just before each window's end.
func TestDecide(t *testing.T) {
	due := dtT0.Add(-100 * 24 * time.Hour).Add(DefaultMaxAge)
	quietEnd := dtVerified().Stored.Add(dtPolicy.Quiet + dtPolicy.LastUseLag) // old key last used before the store took the new key; uses show LastUseLag late
	deleteAt := dtRetired().Retired.Add(dtPolicy.DeleteAfter)
	settled := dtCreating().Lease.Add(consistencySlack)
	readEvery := dtPolicy
	readEvery.Consumers = ReadEveryUse
	allowInactive := dtPolicy
	allowInactive.AllowInactive = true
	deleteInactive := dtPolicy
	deleteInactive.DeleteInactive = true
	held := &iamkeys.NewKey{Key: dtNewKey(iamkeys.StatusActive), Secret: iamkeys.NewSecret("secret")}
	inactiveOld := dtOldKey()
	inactiveOld.Status = iamkeys.StatusInactive
	youngKey := dtKey(dtOld, iamkeys.StatusActive, dtT0.Add(-time.Hour))
	fullTags := map[string]string{}
	for i := range iammodel.MaxTags {
		fullTags[fmt.Sprintf("team%d", i)] = "x"
	}
	almostFull := map[string]string{}
	for i := range iammodel.MaxTags - 1 {
		almostFull[fmt.Sprintf("team%d", i)] = "x"
	}

	recordIs := func(want record) func(*testing.T, decision) {
		return func(t *testing.T, d decision) {
			t.Helper()
			if d.rec != want {
				t.Errorf("record written = %+v\nwant %+v", d.rec, want)
			}
		}
	}
	warns := func(t *testing.T, d decision) {
		t.Helper()
		if d.warn == "" {
			t.Error("no warning")
		}
	}

	rows := []decideRow{
		// decide
		{name: "unreadable record blocks", w: func() *world {
			w := dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive))
			w.recErr = errors.New("bad")
			return w
		}(), phase: PhaseBlocked, err: ErrBlocked},
		{name: "unreadable record blocks a rollback too", w: func() *world {
			w := dtWorld(dtT0, dtOldKey())
			w.recErr = errors.New("bad")
			return w
		}(), v: view{mode: modeRollback, force: true}, phase: PhaseBlocked, err: ErrBlocked},

		// decideIdle
		{name: "idle rollback has nothing to roll back", w: dtWorld(dtT0, dtOldKey()), v: view{mode: modeRollback},
			phase: PhaseIdle, err: ErrNothingToRollBack},
		{name: "idle without keys", w: dtWorld(dtT0), phase: PhaseIdle},
		{name: "idle key 1s before due", w: dtWorld(due.Add(-time.Second), dtOldKey()), phase: PhaseIdle, next: due},
		{name: "idle key exactly due begins", w: dtWorld(due, dtOldKey()), step: StepBegin, key: dtOld, phase: PhaseCreating,
			check: func(t *testing.T, d decision) {
				r := d.rec
				if r.ID == "" || r.Phase != phaseCreating || r.Old != dtOld || r.New != "" ||
					!r.Begun.Equal(due) || !r.Lease.Equal(due.Add(dtLease)) || r.check() != nil {
					t.Errorf("begin record %+v", r)
				}
			}},
		{name: "rotate now begins a key not due", w: dtWorld(dtT0, youngKey), v: view{mode: modeRotateNow},
			step: StepBegin, key: dtOld, phase: PhaseCreating},
		{name: "reconcile leaves a young key", w: dtWorld(dtT0, youngKey), phase: PhaseIdle, next: youngKey.Created.Add(DefaultMaxAge)},
		{name: "only key inactive blocks", w: dtWorld(dtT0, inactiveOld), phase: PhaseBlocked, err: ErrBlocked},
		{name: "only key inactive with AllowInactive begins", w: dtWorld(dtT0, inactiveOld), p: &allowInactive,
			step: StepBegin, key: dtOld, phase: PhaseCreating},
		{name: "idle store unreadable waits", w: dtHoldErr(dtWorld(dtT0, dtOldKey())), phase: PhaseIdle},
		// The store may hold a key another process's rotation just stored
		// after this observation listed the keys: the one loser's error.
		{name: "idle store holds a key IAM does not list: in progress", w: dtHold(dtWorld(dtT0, dtOldKey()), Holding{Current: dtOther}),
			phase: PhaseIdle, err: ErrRotationInProgress},
		{name: "idle empty store begins", w: dtHold(dtWorld(dtT0, dtOldKey()), Holding{}), step: StepBegin, key: dtOld, phase: PhaseCreating},
		{name: "idle 50 tags: no room", w: func() *world { w := dtWorld(dtT0, dtOldKey()); w.user.Tags = fullTags; return w }(),
			phase: PhaseBlocked, err: ErrNoRoom},
		{name: "idle 49 tags begins", w: func() *world { w := dtWorld(dtT0, dtOldKey()); w.user.Tags = almostFull; return w }(),
			step: StepBegin, key: dtOld, phase: PhaseCreating},

		// decideSecondSlot
		{name: "two active keys block", w: dtWorld(due, dtOldKey(), dtNewKey(iamkeys.StatusActive)), phase: PhaseBlocked, err: ErrBlocked},
		{name: "two inactive keys block", w: dtWorld(due, inactiveOld, dtNewKey(iamkeys.StatusInactive)), phase: PhaseBlocked, err: ErrBlocked},
		{name: "inactive other slot, not due: warn", w: dtWorld(due.Add(-time.Second), dtNewKey(iamkeys.StatusInactive), dtOldKey()),
			phase: PhaseIdle, next: due, check: warns},
		{name: "inactive other slot, due, no DeleteInactive blocks", w: dtWorld(due, dtOldKey(), dtNewKey(iamkeys.StatusInactive)),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "inactive other slot, store unreadable waits", w: dtHoldErr(dtWorld(due, dtOldKey(), dtNewKey(iamkeys.StatusInactive))),
			p: &deleteInactive, phase: PhaseIdle},
		{name: "inactive other slot held by the store blocks", w: dtHold(dtWorld(due, dtOldKey(), dtNewKey(iamkeys.StatusInactive)), Holding{Current: dtOld, Pending: dtNew}),
			p: &deleteInactive, phase: PhaseBlocked, err: ErrBlocked},
		{name: "inactive other slot deleted", w: dtWorld(due, dtOldKey(), dtNewKey(iamkeys.StatusInactive)), p: &deleteInactive,
			step: StepDeleteInactive, key: dtNew, phase: PhaseIdle},

		// decideStartRollback
		{name: "rollback of another's creating 1s before lease end: in progress", w: dtRec(dtWorld(dtT0.Add(dtLease-time.Second), dtOldKey()), dtCreating()),
			v: view{mode: modeRollback}, phase: PhaseCreating, err: ErrRotationInProgress, next: dtT0.Add(dtLease)},
		{name: "rollback of another's created at lease end is recorded", w: dtRec(dtWorld(dtT0.Add(dtLease), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()),
			v: view{mode: modeRollback}, step: StepRollback, key: dtNew, phase: PhaseRollingBack, check: recordIs(dtRollback(dtCreated()))},
		{name: "rollback of another's created within lease: in progress", w: dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()),
			v: view{mode: modeRollback}, phase: PhaseCreated, err: ErrRotationInProgress, next: dtT0.Add(dtLease)},
		{name: "rollback of creating settles it first: a listed key is adopted", w: dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreating()),
			v: view{mode: modeRollback}, step: StepAdopt, key: dtNew, phase: PhaseCreated},
		{name: "rollback of creating settled without a key: clear", w: dtRec(dtWorld(settled, dtOldKey()), dtCreating()),
			v: view{mode: modeRollback}, step: StepClear, phase: PhaseIdle},
		{name: "rollback of a retired rotation keeps retirer", w: dtRetiredWorld(dtT0.Add(6 * time.Hour)),
			v: view{mode: modeRollback}, step: StepRollback, key: dtNew, phase: PhaseRollingBack, check: recordIs(dtRollback(dtRetired()))},

		// decideCreating
		{name: "creating, own intent: create", w: dtRec(dtWorld(dtT0, dtOldKey()), dtCreating()), v: view{intent: dtCreating().ID},
			step: StepCreate, phase: PhaseCreating},
		{name: "creating, old key gone: clear", w: dtRec(dtWorld(dtT0), dtCreating()), step: StepClear, phase: PhaseIdle},
		{name: "creating, key created consistencySlack before begun is adopted", w: dtRec(dtWorld(dtT0, dtOldKey(), dtKey(dtNew, iamkeys.StatusActive, dtT0.Add(-consistencySlack))), dtCreating()),
			step: StepAdopt, key: dtNew, phase: PhaseCreated, check: func(t *testing.T, d decision) {
				want := dtCreating()
				want.Phase, want.New = phaseCreated, dtNew
				recordIs(want)(t, d)
			}},
		{name: "creating, own intent but key held: adopt", w: dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreating()),
			v: view{intent: dtCreating().ID, held: held}, step: StepAdopt, key: dtNew, phase: PhaseCreated},
		{name: "creating, key created 1s before the adoption window is not ours: blocked", w: dtRec(dtWorld(dtT0, dtOldKey(), dtKey(dtNew, iamkeys.StatusActive, dtT0.Add(-consistencySlack-time.Second))), dtCreating()),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "creating, 1s before lease end: in progress", w: dtRec(dtWorld(dtT0.Add(dtLease-time.Second), dtOldKey()), dtCreating()),
			phase: PhaseCreating, err: ErrRotationInProgress, next: dtT0.Add(dtLease)},
		{name: "creating, at lease end: waits for the listing", w: dtRec(dtWorld(dtT0.Add(dtLease), dtOldKey()), dtCreating()),
			phase: PhaseCreating, err: ErrRotationInProgress, next: settled},
		{name: "creating, 1s before settled: waits", w: dtRec(dtWorld(settled.Add(-time.Second), dtOldKey()), dtCreating()),
			phase: PhaseCreating, err: ErrRotationInProgress, next: settled},
		{name: "creating, settled and no key: clear", w: dtRec(dtWorld(settled, dtOldKey()), dtCreating()), step: StepClear, phase: PhaseIdle},

		// decideCreated
		{name: "created, new key not listed within the consistency margin: wait", w: dtRec(dtWorld(dtT0.Add(dtLease+consistencySlack-time.Second), dtOldKey()), dtCreated()), phase: PhaseCreated, next: dtT0.Add(dtLease + consistencySlack)},
		// IAM's own answer for the unlisted key beats the time margin.
		{name: "stored, new key not listed but IAM says it exists: wait past the margin", w: func() *world {
			w := dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey()), dtStored())
			w.probed = map[string]bool{dtNew: true}
			return w
		}(), phase: PhaseStored},
		// AccessDenied on the probe may be a missing permission: the margin
		// still holds.
		{name: "stored, new key not listed and the probe denied: wait within the margin", w: func() *world {
			w := dtRec(dtWorld(dtT0, dtOldKey()), dtStored())
			w.probed = map[string]bool{dtNew: false}
			return w
		}(), phase: PhaseStored, next: dtT0.Add(dtLease + consistencySlack)},
		{name: "created, new key gone: clear", w: dtRec(dtWorld(dtT0.Add(dtLease+consistencySlack), dtOldKey()), dtCreated()), step: StepClear, phase: PhaseIdle},
		{name: "created, new key deleted by this call: clear at once", w: dtRec(dtWorld(dtT0, dtOldKey()), dtCreated()), v: view{gone: map[string]bool{dtNew: true}}, step: StepClear, phase: PhaseIdle},
		{name: "created, creator holds the key: store", w: dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()),
			v: view{intent: dtCreated().ID, held: held}, step: StepStore, key: dtNew, phase: PhaseCreated},
		{name: "created, creator late: does not store", w: dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()),
			v: view{intent: dtCreated().ID, held: held, late: true}, phase: PhaseCreated, err: ErrRotationInProgress, next: dtT0.Add(dtLease)},
		{name: "created, store unreadable: keep", w: dtHoldErr(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated())),
			phase: PhaseCreated},
		{name: "created, store holds new: mark stored", w: dtHold(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()), Holding{Current: dtNew}),
			step: StepMarkStored, key: dtNew, phase: PhaseStored, check: func(t *testing.T, d decision) {
				want := dtCreated()
				want.Phase, want.Stored, want.Lease = phaseStored, dtT0.Add(time.Hour), time.Time{}
				recordIs(want)(t, d)
			}},
		{name: "created, store holds new pending: mark stored", w: dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()), Holding{Current: dtOld, Pending: dtNew}),
			step: StepMarkStored, key: dtNew, phase: PhaseStored},
		{name: "created, 1s before lease end: in progress", w: dtRec(dtWorld(dtT0.Add(dtLease-time.Second), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()),
			phase: PhaseCreated, err: ErrRotationInProgress, next: dtT0.Add(dtLease)},
		{name: "created, at lease end, unused: orphan deleted", w: dtRec(dtWorld(dtT0.Add(dtLease), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()),
			step: StepDeleteOrphan, key: dtNew, phase: PhaseCreated},
		{name: "created, inactive orphan deleted", w: dtRec(dtWorld(dtT0.Add(dtLease), dtOldKey(), dtNewKey(iamkeys.StatusInactive)), dtCreated()),
			step: StepDeleteOrphan, key: dtNew, phase: PhaseCreated},
		{name: "created, after lease but used: blocked", w: dtUse(dtRec(dtWorld(dtT0.Add(dtLease), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated()), dtNew, dtT0.Add(time.Minute)),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "created, expired new key: blocked", w: dtRec(dtWorld(dtT0.Add(dtLease), dtOldKey(), dtNewKey(iamkeys.StatusExpired)), dtCreated()),
			phase: PhaseBlocked, err: ErrBlocked},

		// decideStored
		{name: "stored, new key not listed yet: wait", w: dtRec(dtWorld(dtT0, dtOldKey()), dtStored()), phase: PhaseStored, next: dtT0.Add(dtLease + consistencySlack)},
		{name: "stored, new key gone, old active: clear", w: dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey()), dtStored()), step: StepClear, phase: PhaseIdle},
		{name: "stored, new key gone, old inactive: blocked", w: dtRec(dtWorld(dtT0.Add(time.Hour), inactiveOld), dtStored()), phase: PhaseBlocked, err: ErrBlocked},
		{name: "stored, new key inactive: blocked", w: dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusInactive)), dtStored()), Holding{Current: dtNew}),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "stored, store unreadable: waits", w: dtHoldErr(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored())),
			phase: PhaseStored},
		{name: "stored, store lost new: blocked", w: dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "stored, stager already current: mark verified", w: dtStager(dtHold(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()), Holding{Current: dtNew})),
			step: StepMarkVerified, key: dtNew, phase: PhaseOverlapping, check: func(t *testing.T, d decision) {
				want := dtStored()
				want.Phase, want.Verified = phaseVerified, dtT0.Add(time.Hour)
				recordIs(want)(t, d)
			}},
		{name: "stored, stager pending, loader: verify", w: dtStager(dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()), Holding{Current: dtOld, Pending: dtNew})),
			step: StepVerify, key: dtNew, phase: PhaseStored},
		{name: "stored, creator holds the key: verify", w: dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()), Holding{Current: dtNew}),
			v: view{held: held}, step: StepVerify, key: dtNew, phase: PhaseStored},
		{name: "stored, loader: verify", w: dtLoader(dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()), Holding{Current: dtNew})),
			step: StepVerify, key: dtNew, phase: PhaseStored},
		{name: "stored, write-only, new used 1s after stored: mark verified", w: dtUse(dtHold(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()), Holding{Current: dtNew}), dtNew, dtStored().Stored.Add(time.Second)),
			step: StepMarkVerified, key: dtNew, phase: PhaseOverlapping},
		{name: "stored, write-only, new used exactly at stored: waits", w: dtUse(dtHold(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()), Holding{Current: dtNew}), dtNew, dtStored().Stored),
			phase: PhaseStored},
		{name: "stored, write-only, unused: waits", w: dtHold(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtStored()), Holding{Current: dtNew}),
			phase: PhaseStored},

		// The lease: another call's live lease stops every step; this
		// call's own does not; a call holding the key it created goes on.
		{name: "foreign live lease: in progress", w: func() *world {
			w := dtOverlap(quietEnd)
			w.rec.Owner, w.rec.Lease = "0therown", quietEnd.Add(time.Second)
			return w
		}(), phase: PhaseOverlapping, err: ErrRotationInProgress, next: quietEnd.Add(time.Second)},
		{name: "foreign lease ended: retire", w: func() *world {
			w := dtOverlap(quietEnd)
			w.rec.Owner, w.rec.Lease = "0therown", quietEnd
			return w
		}(), step: StepRetire, key: dtOld, phase: PhaseOverlapping},
		{name: "own live lease: retire", w: func() *world {
			w := dtOverlap(quietEnd)
			w.rec.Owner, w.rec.Lease = "myowner1", quietEnd.Add(time.Hour)
			return w
		}(), v: view{owner: "myowner1"}, step: StepRetire, key: dtOld, phase: PhaseOverlapping},
		{name: "foreign live lease, this call holds the new key: store", w: func() *world {
			w := dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtCreated())
			w.rec.Owner = "0therown"
			return w
		}(), v: view{held: held}, step: StepStore, key: dtNew, phase: PhaseCreated},

		// decideOverlapping
		{name: "overlapping, new key gone, old active: clear", w: func() *world { w := dtOverlap(quietEnd); w.keys = w.keys[:1]; return w }(),
			step: StepClear, phase: PhaseIdle},
		{name: "overlapping, old key gone: finished", w: func() *world { w := dtOverlap(quietEnd); w.keys = w.keys[1:]; return w }(),
			step: StepClear, phase: PhaseFinished},
		{name: "overlapping, new key inactive: blocked, old kept", w: func() *world { w := dtOverlap(quietEnd); w.keys[1].Status = iamkeys.StatusInactive; return w }(),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "overlapping, old deactivated by someone: mark retired", w: func() *world { w := dtOverlap(quietEnd); w.keys[0].Status = iamkeys.StatusInactive; return w }(),
			step: StepMarkRetired, key: dtOld, phase: PhaseRetired, check: func(t *testing.T, d decision) {
				want := dtVerified()
				want.Phase, want.Retired, want.Retirer = phaseRetired, quietEnd, false
				recordIs(want)(t, d)
				warns(t, d)
			}},
		{name: "overlapping, store unreadable: waits", w: dtHoldErr(dtOverlap(quietEnd)), phase: PhaseOverlapping},
		{name: "overlapping, store current is not new: blocked", w: dtHold(dtOverlap(quietEnd), Holding{Current: dtOld, Pending: dtNew}),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "overlapping, quiet since stored, 1s before end: waits", w: dtOverlap(quietEnd.Add(-time.Second)), phase: PhaseOverlapping, next: quietEnd},
		{name: "overlapping, quiet since stored, at end: retire", w: dtOverlap(quietEnd), step: StepRetire, key: dtOld, phase: PhaseOverlapping},
		{name: "overlapping, old used after stored, 1s before its quiet end: waits", w: dtUse(dtOverlap(dtT0.Add(4*time.Hour-time.Second)), dtOld, dtT0.Add(time.Hour)),
			phase: PhaseOverlapping, next: dtT0.Add(4 * time.Hour), check: func(t *testing.T, d decision) {
				if !strings.Contains(d.waiting, dtOld) {
					t.Errorf("waiting %q does not name the old key", d.waiting)
				}
			}},
		{name: "overlapping, old used after stored, at its quiet end: retire", w: dtUse(dtOverlap(dtT0.Add(4*time.Hour)), dtOld, dtT0.Add(time.Hour)),
			step: StepRetire, key: dtOld, phase: PhaseOverlapping},
		{name: "overlapping, new key never used by a consumer: waits", w: func() *world { w := dtOverlap(quietEnd.Add(time.Hour)); delete(w.use, dtNew); return w }(),
			phase: PhaseOverlapping},
		{name: "overlapping, new used exactly at verified+15m (verifier's): waits", w: dtUse(dtOverlap(quietEnd.Add(time.Hour)), dtNew, dtVerified().Verified.Add(lastUseGranularity)),
			phase: PhaseOverlapping},
		{name: "overlapping, new used 1s after verified+15m: retire", w: dtUse(dtOverlap(quietEnd), dtNew, dtVerified().Verified.Add(lastUseGranularity+time.Second)),
			step: StepRetire, key: dtOld, phase: PhaseOverlapping},
		{name: "read-every-use, 1s before lag end: waits", w: func() *world {
			w := dtOverlap(dtStored().Stored.Add(time.Hour - time.Second))
			delete(w.use, dtNew)
			return w
		}(),
			p: &readEvery, phase: PhaseOverlapping, next: dtStored().Stored.Add(time.Hour)},
		{name: "read-every-use, at lag end: retire without new-key use", w: func() *world { w := dtOverlap(dtStored().Stored.Add(time.Hour)); delete(w.use, dtNew); return w }(),
			p: &readEvery, step: StepRetire, key: dtOld, phase: PhaseOverlapping},
		{name: "read-every-use, old used after stored: read-once rule waits", w: dtUse(dtOverlap(dtStored().Stored.Add(time.Hour)), dtOld, dtT0.Add(30*time.Minute)),
			p: &readEvery, phase: PhaseOverlapping, next: dtT0.Add(30*time.Minute + 3*time.Hour)},

		// decideRetired
		{name: "retired, old key gone: finished", w: func() *world { w := dtRetiredWorld(deleteAt); w.keys = w.keys[1:]; return w }(),
			step: StepClear, phase: PhaseFinished},
		{name: "retired, old reactivated by someone: unretire", w: func() *world { w := dtRetiredWorld(deleteAt); w.keys[0].Status = iamkeys.StatusActive; return w }(),
			step: StepUnretire, key: dtOld, phase: PhaseOverlapping, check: func(t *testing.T, d decision) {
				want := dtVerified()
				want.Since = deleteAt // the quiet window starts again
				recordIs(want)(t, d)
				warns(t, d)
			}},
		{name: "retired, new key gone: reactivate old", w: func() *world { w := dtRetiredWorld(dtT0.Add(6 * time.Hour)); w.keys = w.keys[:1]; return w }(),
			step: StepReactivateOld, key: dtOld, phase: PhaseRetired},
		{name: "retired, new key inactive: reactivate old", w: func() *world {
			w := dtRetiredWorld(dtT0.Add(6 * time.Hour))
			w.keys[1].Status = iamkeys.StatusInactive
			return w
		}(),
			step: StepReactivateOld, key: dtOld, phase: PhaseRetired},
		{name: "retired, store unreadable: waits", w: dtHoldErr(dtRetiredWorld(deleteAt)), phase: PhaseRetired},
		{name: "retired, store holds old: reactivate old", w: dtHold(dtRetiredWorld(deleteAt), Holding{Current: dtOld}),
			step: StepReactivateOld, key: dtOld, phase: PhaseRetired},
		{name: "retired, store holds a stranger: blocked", w: dtHold(dtRetiredWorld(deleteAt), Holding{Current: dtOther}),
			phase: PhaseBlocked, err: ErrBlocked},
		{name: "retired, 1s before DeleteAfter: waits", w: dtRetiredWorld(deleteAt.Add(-time.Second)), phase: PhaseRetired, next: deleteAt},
		{name: "retired, at DeleteAfter: delete old", w: dtRetiredWorld(deleteAt), step: StepDeleteOld, key: dtOld, phase: PhaseRetired},

		// decideRollback
		{name: "rollback, new gone, old retired by us: reactivate", w: func() *world {
			w := dtRec(dtWorld(dtT0.Add(time.Hour), inactiveOld), dtRollback(dtRetired()))
			return w
		}(), step: StepReactivateOld, key: dtOld, phase: PhaseRollingBack},
		{name: "rollback, new gone, old deactivated by someone: clear", w: func() *world {
			r := dtRollback(dtRetired())
			r.Retirer = false
			return dtRec(dtWorld(dtT0.Add(time.Hour), inactiveOld), r)
		}(), step: StepClear, phase: PhaseRolledBack},
		{name: "rollback, new not listed yet: wait", w: dtRec(dtWorld(dtT0, dtOldKey()), dtRollback(dtStored())), phase: PhaseRollingBack, next: dtT0.Add(dtLease + consistencySlack)},
		{name: "rollback, new gone: clear", w: dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey()), dtRollback(dtStored())), step: StepClear, phase: PhaseRolledBack},
		{name: "rollback, no new key recorded: clear", w: dtRec(dtWorld(dtT0, dtOldKey()), dtRollback(dtCreating())), step: StepClear, phase: PhaseRolledBack},
		{name: "rollback, old gone: blocked, new kept", w: dtRec(dtWorld(dtT0, dtNewKey(iamkeys.StatusActive)), dtRollback(dtVerified())),
			v: view{mode: modeRollback, force: true}, phase: PhaseBlocked, err: ErrBlocked},
		{name: "rollback, old deactivated by someone: blocked", w: func() *world {
			r := dtRollback(dtVerified())
			return dtRec(dtWorld(dtT0, inactiveOld, dtNewKey(iamkeys.StatusActive)), r)
		}(), v: view{mode: modeRollback, force: true}, phase: PhaseBlocked, err: ErrBlocked},
		{name: "rollback, old retired by us: reactivate before deleting new", w: dtRec(dtWorld(dtT0, inactiveOld, dtNewKey(iamkeys.StatusActive)), dtRollback(dtRetired())),
			v: view{mode: modeRollback, force: true}, step: StepReactivateOld, key: dtOld, phase: PhaseRollingBack},
		{name: "rollback, store unreadable: refused", w: dtHoldErr(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtStored()))),
			v: view{mode: modeRollback}, phase: PhaseRollingBack, err: ErrBlocked},
		// Force is the caller's decision that the store does not matter.
		{name: "rollback, store unreadable, force: delete new", w: dtHoldErr(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtStored()))),
			v: view{mode: modeRollback, force: true}, step: StepDeleteNew, key: dtNew, phase: PhaseRollingBack},
		{name: "rollback, store holds new: refused", w: dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtVerified())), Holding{Current: dtNew}),
			v: view{mode: modeRollback}, phase: PhaseRollingBack, err: ErrStoreHoldsKey},
		{name: "rollback, store holds new, force: delete new", w: dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtVerified())), Holding{Current: dtNew}),
			v: view{mode: modeRollback, force: true}, step: StepDeleteNew, key: dtNew, phase: PhaseRollingBack},
		{name: "rollback, new pending only: delete new", w: dtHold(dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtStored())), Holding{Current: dtOld, Pending: dtNew}),
			v: view{mode: modeRollback}, step: StepDeleteNew, key: dtNew, phase: PhaseRollingBack},
		{name: "rollback, new used 1s after verified+15m: refused", w: dtUse(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtVerified())), dtNew, dtVerified().Verified.Add(lastUseGranularity+time.Second)),
			v: view{mode: modeRollback}, phase: PhaseRollingBack, err: ErrNewKeyInUse},
		{name: "rollback, new used exactly at verified+15m (verifier's): delete new", w: dtUse(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtVerified())), dtNew, dtVerified().Verified.Add(lastUseGranularity)),
			v: view{mode: modeRollback}, step: StepDeleteNew, key: dtNew, phase: PhaseRollingBack},
		{name: "rollback, stored not verified, new used 1s after stored: refused", w: dtUse(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtStored())), dtNew, dtStored().Stored.Add(time.Second)),
			v: view{mode: modeRollback}, phase: PhaseRollingBack, err: ErrNewKeyInUse},
		{name: "rollback, new used exactly at stored: delete new", w: dtUse(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtStored())), dtNew, dtStored().Stored),
			v: view{mode: modeRollback}, step: StepDeleteNew, key: dtNew, phase: PhaseRollingBack},
		{name: "rollback, new in use, force: delete new", w: dtUse(dtRec(dtWorld(dtT0.Add(time.Hour), dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtVerified())), dtNew, dtT0.Add(time.Hour)),
			v: view{mode: modeRollback, force: true}, step: StepDeleteNew, key: dtNew, phase: PhaseRollingBack},
		{name: "rollback recorded, reconcile carries it on", w: dtRec(dtWorld(dtT0, dtOldKey(), dtNewKey(iamkeys.StatusActive)), dtRollback(dtCreated())),
			step: StepDeleteNew, key: dtNew, phase: PhaseRollingBack},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := dtPolicy
			if row.p != nil {
				p = *row.p
			}
			if err := p.check(); err != nil {
				t.Fatal(err)
			}
			d := decide(row.w, p, dtLease, row.v)
			if d.step != row.step || d.key != row.key || d.phase != row.phase {
				t.Errorf("decision = step %q key %q phase %q (waiting %q, err %v), want step %q key %q phase %q",
					d.step, d.key, d.phase, d.waiting, d.err, row.step, row.key, row.phase)
			}
			switch {
			case row.err == nil && d.err != nil:
				t.Errorf("err = %v, want none", d.err)
			case row.err != nil && !errors.Is(d.err, row.err):
				t.Errorf("err = %v, want %v", d.err, row.err)
			}
			if d.step != "" && d.err != nil {
				t.Errorf("a decision to act carries an error: %v", d.err)
			}
			if !d.next.Equal(row.next) {
				t.Errorf("next = %v, want %v", d.next, row.next)
			}
			if d.step == "" && d.err == nil && d.phase != PhaseIdle && d.waiting == "" {
				t.Errorf("a wait says nothing of what it waits for")
			}
			if d.step != "" && d.rec.ID != "" {
				if err := d.rec.check(); err != nil {
					t.Errorf("record written does not check: %v", err)
				}
			}
			if row.check != nil {
				row.check(t, d)
			}
		})
	}
}

// TestDecideIsPure: deciding twice on one world gives the same decision
// (but for a new attempt ID) and does not change the world.
func TestDecideIsPure(t *testing.T) {
	w := dtOverlap(dtT0.Add(5 * time.Hour))
	before := fmt.Sprintf("%+v %+v", *w.rec, w.keys)
	d1 := decide(w, dtPolicy, dtLease, view{})
	d2 := decide(w, dtPolicy, dtLease, view{})
	if d1.step != d2.step || d1.key != d2.key || d1.phase != d2.phase {
		t.Fatalf("decisions differ: %+v, %+v", d1, d2)
	}
	if after := fmt.Sprintf("%+v %+v", *w.rec, w.keys); after != before {
		t.Fatalf("decide changed the world:\n%s\n%s", before, after)
	}
}
