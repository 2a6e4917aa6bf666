package rotate_test

// The invariants of the simulation, checked after every step (and, for
// "store-key-kept", at the moment of every change, in the event hook).

import (
	"fmt"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/rotate"
)

// violate records a broken invariant; the schedule fails with its trace.
func (w *simWorld) violate(inv, msg string) {
	w.fails[inv] = true
	v := fmt.Sprintf("step %d %s: %s: %s", w.step, w.since(), inv, simShort(msg))
	w.violations = append(w.violations, v)
	w.trace = append(w.trace, "  !! "+v)
}

// checkAll runs every invariant.
func (w *simWorld) checkAll() {
	w.invOneCreatePerAttempt()
	w.mu.Lock()
	errs := w.hookErrs
	w.hookErrs = nil
	w.mu.Unlock()
	for _, e := range errs {
		inv, msg, _ := strings.Cut(e, ": ")
		w.violate(inv, msg)
	}
	w.invStoreKeyUsable()
	w.invKeysAccounted()
	w.invTagBound()
}

// judgeCutOff is invariant "no consumer cut off": a consumer whose key is
// refused was cut off. That is the operator's doing if he deactivated the
// key. For a read-once consumer it is allowed when the consumer broke the
// assumption the quiet window rests on, that a consumer of the old key
// never goes Quiet-LastUseLag without using it: when it is idle that long
// now, or resumed its use after such a gap so recently (within LastUseLag
// before the retirement) that IAM could not show it. Anything else is a
// violation.
// An every-use consumer reads the store's current key, which must always
// work.
func (w *simWorld) judgeCutOff(c *simConsumer, id string, now time.Time) string {
	b, ok := w.breakerOf(id)
	switch {
	case ok && b.byOperator():
		return "the operator " + b.what + " it"
	case !ok:
		w.violate("no-consumer-cut-off", fmt.Sprintf("%s's key %s is refused but was never deactivated or deleted", c.name, id))
		return "VIOLATION"
	case c.everyUse:
		w.violate("no-consumer-cut-off", fmt.Sprintf("%s (every-use) read key %s from the store; %s %s it at %s",
			c.name, id, b.actor, b.what, b.at.Sub(simEpoch)))
		return "VIOLATION"
	}
	last := c.lastUse()
	switch {
	case now.Sub(last) >= simGap:
		return fmt.Sprintf("idle %v, beyond the assumed %v; %s %s it", now.Sub(last), simGap, b.actor, b.what)
	case c.since.After(b.at.Add(-simLastUseLag)):
		// Its regular use began after a gap, within the last-use lag
		// before the retirement: IAM could not show it yet.
		return fmt.Sprintf("resumed using it at +%v after a gap beyond %v, within the last-use lag before %s %s it",
			c.since.Sub(simEpoch), simGap, b.actor, b.what)
	}
	w.violate("no-consumer-cut-off", fmt.Sprintf("%s (read-once) read key %s at +%v and last used it at +%v; %s %s it at +%v",
		c.name, id, c.readAt.Sub(simEpoch), c.lastOK.Sub(simEpoch), b.actor, b.what, b.at.Sub(simEpoch)))
	return "VIOLATION"
}

// invStoreKeyUsable: the store's current key is always an existing active
// key, unless the operator deactivated it.
func (w *simWorld) invStoreKeyUsable() {
	cur := w.back.current().ID
	k, ok := w.srv.Key(cur)
	if ok && k.Status == "Active" {
		return
	}
	if b, ok := w.breakerOf(cur); ok && b.byOperator() {
		return
	}
	state := "gone"
	if ok {
		state = k.Status
	}
	w.violate("store-key-usable", fmt.Sprintf("the store's current key %s is %s", cur, state))
}

// invKeysAccounted: every key in IAM is the store's (current or pending),
// the old or new key of the rotation in flight, or one created under the
// attempt now recorded (a crashed creator's key, adopted by the next
// reconcile). Skipped while the operator's garbage stands in the state tag.
func (w *simWorld) invKeysAccounted() {
	if w.op.garbled {
		return
	}
	u, _ := w.srv.User(w.user)
	tag := u.Tags[rotate.StateTag]
	h := w.back.holding()
	w.mu.Lock()
	created := w.creates[w.attempt]
	w.mu.Unlock()
	for _, k := range w.srv.Keys(w.user) {
		switch k.ID {
		case h.Current, h.Pending, simField(tag, "old"), simField(tag, "new"):
			continue
		}
		if tag != "" && simContains(created, k.ID) {
			continue
		}
		w.violate("keys-accounted", fmt.Sprintf("key %s (%s) is neither the store's, nor the rotation's (tag %q)", k.ID, k.Status, tag))
	}
}

// invOneCreatePerAttempt: at most one CreateAccessKey applies per attempt
// id, and none without a recorded attempt.
func (w *simWorld) invOneCreatePerAttempt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, keys := range w.creates {
		switch {
		case id == "":
			w.hookErrs = append(w.hookErrs, fmt.Sprintf("one-create-per-attempt: keys %v created with no state tag", keys))
		case len(keys) > 1:
			w.hookErrs = append(w.hookErrs, fmt.Sprintf("one-create-per-attempt: attempt %s created %v", id, keys))
		default:
			continue
		}
		w.creates[id] = keys[:1] // report once
		if id == "" {
			delete(w.creates, id)
		}
	}
}

// invTagBound: the library keeps at most one tag of its own.
func (w *simWorld) invTagBound() {
	u, _ := w.srv.User(w.user)
	n := 0
	for k := range u.Tags {
		if strings.HasPrefix(strings.ToLower(k), "iamkeys:") {
			n++
		}
	}
	if n > 1 {
		w.violate("tag-bound", fmt.Sprintf("%d iamkeys: tags: %v", n, u.Tags))
	}
}

// finished is the liveness goal: one key, the store's, active, and no
// state tag.
func (w *simWorld) finished() bool {
	keys := w.srv.Keys(w.user)
	u, _ := w.srv.User(w.user)
	_, tagged := u.Tags[rotate.StateTag]
	return len(keys) == 1 && keys[0].Status == "Active" && keys[0].ID == w.back.current().ID && !tagged
}

func simContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
