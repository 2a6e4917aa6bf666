package rotate_test

// The actors of the simulation. Each is a small function that runs one call
// to completion and returns a line for the trace.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
)

type simActor struct {
	name    string
	weight  int
	process *simProc // set for a Rotator call: the plan may fire inside it
	run     func(w *simWorld) string
}

func simActors(w *simWorld) []simActor {
	var as []simActor
	for _, p := range w.procs {
		as = append(as,
			simActor{p.name + " reconcile", 30 / len(w.procs), p, p.reconcile},
			simActor{p.name + " rotate", 4 / len(w.procs), p, p.rotateNow},
			simActor{p.name + " rollback", 3, p, p.rollback},
		)
	}
	for _, c := range w.consumers {
		c := c
		as = append(as,
			simActor{c.name + " use", 12 / len(w.consumers), nil, func(*simWorld) string { return c.use(false) }},
			simActor{c.name + " restart", 8 / len(w.consumers), nil, func(*simWorld) string { c.restart(); c.running = true; return "restarted, running, holds " + c.key.ID }},
			simActor{c.name + " stop", 3 / len(w.consumers), nil, func(*simWorld) string { c.running = false; return "stopped" }},
		)
	}
	as = append(as,
		simActor{"operator describe", 3, nil, (*simWorld).opDescribe},
		simActor{"operator garble", 1, nil, (*simWorld).opGarble},
		simActor{"operator restore", 2, nil, (*simWorld).opRestore},
		simActor{"operator untag", 1, nil, (*simWorld).opUntag},
		simActor{"operator deactivate", 2, nil, (*simWorld).opDeactivate},
		simActor{"operator reactivate", 3, nil, (*simWorld).opReactivate},
	)
	return as
}

func (w *simWorld) pickActor() simActor {
	total := 0
	for _, a := range w.actors {
		total += max(a.weight, 1)
	}
	n := w.rng.IntN(total)
	for _, a := range w.actors {
		if n -= max(a.weight, 1); n < 0 {
			return a
		}
	}
	return w.actors[len(w.actors)-1]
}

// runActor runs a to completion under its name. A simCrash is the process
// dying: it restarts with a fresh Rotator.
func (w *simWorld) runActor(a simActor) (line string) {
	who, _, _ := strings.Cut(a.name, " ") // "operator", "p1", "c2"
	prev := w.setActor(who)
	defer w.setActor(prev)
	if a.process != nil {
		defer func() {
			if r := recover(); r != nil {
				c, ok := r.(simCrash)
				if !ok {
					panic(r)
				}
				a.process.crashes++
				a.process.start()
				line = "CRASHED at " + c.op + "; restarted"
			}
		}()
	}
	return a.run(w)
}

// nested runs another process's call inside the call of p: process B acts
// while process A is inside its store or between its IAM calls. Its calls
// are not counted by the plan.
func (w *simWorld) nested(p *simProc) {
	if w.depth > 0 {
		return
	}
	var others []*simProc
	for _, q := range w.procs {
		if q != p {
			others = append(others, q)
		}
	}
	q := others[w.rng.IntN(len(others))]
	call := []func(*simWorld) string{q.reconcile, q.reconcile, q.rotateNow, q.rollback}[w.rng.IntN(4)]
	w.depth++
	line := w.runActor(simActor{name: q.name + " (nested)", process: q, run: call})
	w.depth--
	w.logf("      nested in %s: %s %s", p.name, q.name, line)
	w.logf("      %s", w.snapshot())
}

func (p *simProc) reconcile(w *simWorld) string {
	st, err := p.rot.Reconcile(context.Background(), w.user, p.store)
	return w.judgeCall(p, "Reconcile", st, err)
}

func (p *simProc) rotateNow(w *simWorld) string {
	st, err := p.rot.Rotate(context.Background(), w.user, p.store)
	return w.judgeCall(p, "Rotate", st, err)
}

// rollback never forces: forcing deletes a key the store holds or
// consumers use, which is the caller's informed decision to cut them off.
func (p *simProc) rollback(w *simWorld) string {
	st, err := p.rot.Rollback(context.Background(), w.user, p.store, false)
	return w.judgeCall(p, "Rollback", st, err)
}

// judgeCall checks the errors a Rotator may return: any error is allowed
// under faults, but invalid input (a record the library cannot write) or a
// runaway loop never is.
func (w *simWorld) judgeCall(p *simProc, op string, st rotate.Status, err error) string {
	line := op + ": " + st.String()
	if err != nil {
		line += " ERR " + err.Error()
		switch {
		case errors.Is(err, iamkeys.ErrInvalidInput):
			w.violate("library-errors", fmt.Sprintf("%s %s: invalid input: %v", p.name, op, err))
		case strings.Contains(err.Error(), "no end after"):
			w.violate("library-errors", fmt.Sprintf("%s %s: %v", p.name, op, err))
		case errors.Is(err, rotate.ErrNoServerTime):
			w.violate("library-errors", fmt.Sprintf("%s %s: %v", p.name, op, err))
		}
	}
	for _, wn := range st.Warnings {
		line += " WARN " + wn
	}
	return line
}

// The operator works in the console. He is careful:
//
//   - he edits key descriptions (the console writes a user tag named after
//     the key ID) and removes those of keys that are gone;
//   - he may write garbage into the state tag, but restores what he
//     overwrote before the schedule ends (meanwhile the rotation must stay
//     blocked and nothing may be deleted);
//   - he deletes the state tag only when the user has one key, active and
//     the store's (a rotation finished by hand): deleting it with a second
//     key present legitimately strands that key;
//   - he deactivates any key, and reactivates what he deactivated if it
//     still exists, at the latest when faults stop; a consumer cut off by
//     his deactivation is his doing, not the library's;
//   - he never creates or deletes a key.
type simOperator struct {
	garbled     bool
	saved       string // the state tag value he overwrote
	savedHad    bool
	deactivated map[string]bool
	descs       int
}

func (w *simWorld) opDescribe() string {
	keys := w.srv.Keys(w.user)
	u, _ := w.srv.User(w.user)
	for k := range u.Tags {
		if strings.HasPrefix(k, "AKIA") && !slices.ContainsFunc(keys, func(x iamkeystest.KeyInfo) bool { return x.ID == k }) {
			w.opCall(w.console.UntagUser(context.Background(), &iam.UntagUserInput{UserName: &w.user, TagKeys: []string{k}}))
			return "removed the description of gone key " + k
		}
	}
	if len(keys) == 0 {
		return "no key to describe"
	}
	k := keys[w.rng.IntN(len(keys))]
	w.op.descs++
	v := fmt.Sprintf("deploy bot key edited %d", w.op.descs)
	w.opCall(w.console.TagUser(context.Background(), &iam.TagUserInput{UserName: &w.user,
		Tags: []types.Tag{{Key: aws.String(k.ID), Value: &v}}}))
	return "described " + k.ID
}

var simGarbage = []string{"oops", "v1 id=x phase=bogus old=AKIAX", "v2 id=1 phase=stored", "v1 phase=retired"}

func (w *simWorld) opGarble() string {
	if w.op.garbled {
		return "already garbled"
	}
	u, _ := w.srv.User(w.user)
	w.op.saved, w.op.savedHad = u.Tags[rotate.StateTag]
	w.op.garbled = true
	v := simGarbage[w.rng.IntN(len(simGarbage))]
	w.opCall(w.console.TagUser(context.Background(), &iam.TagUserInput{UserName: &w.user,
		Tags: []types.Tag{{Key: aws.String(rotate.StateTag), Value: &v}}}))
	return fmt.Sprintf("garbled the state tag to %q", v)
}

func (w *simWorld) opRestore() string {
	if !w.op.garbled {
		return "nothing to restore"
	}
	w.op.garbled = false
	if !w.op.savedHad {
		w.opCall(w.console.UntagUser(context.Background(), &iam.UntagUserInput{UserName: &w.user, TagKeys: []string{rotate.StateTag}}))
		return "removed his garbage (there was no state tag)"
	}
	w.opCall(w.console.TagUser(context.Background(), &iam.TagUserInput{UserName: &w.user,
		Tags: []types.Tag{{Key: aws.String(rotate.StateTag), Value: &w.op.saved}}}))
	return "restored the state tag"
}

func (w *simWorld) opUntag() string {
	keys := w.srv.Keys(w.user)
	u, _ := w.srv.User(w.user)
	if _, ok := u.Tags[rotate.StateTag]; !ok || w.op.garbled {
		return "no state tag to remove (or his own garbage pending)"
	}
	if len(keys) != 1 || keys[0].Status != "Active" || keys[0].ID != w.back.current().ID {
		return "leaves the state tag: a second key or the store's key not active"
	}
	w.opCall(w.console.UntagUser(context.Background(), &iam.UntagUserInput{UserName: &w.user, TagKeys: []string{rotate.StateTag}}))
	return "removed the state tag (one key, the store's)"
}

func (w *simWorld) opDeactivate() string {
	var active []string
	for _, k := range w.srv.Keys(w.user) {
		if k.Status == "Active" {
			active = append(active, k.ID)
		}
	}
	if len(active) == 0 {
		return "no active key"
	}
	id := active[w.rng.IntN(len(active))]
	w.op.deactivated[id] = true
	w.opCall(w.console.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: &w.user,
		AccessKeyId: &id, Status: types.StatusTypeInactive}))
	return "deactivated " + id
}

func (w *simWorld) opReactivate() string {
	for _, k := range w.srv.Keys(w.user) {
		if w.op.deactivated[k.ID] {
			delete(w.op.deactivated, k.ID)
			if k.Status == "Active" {
				continue
			}
			id := k.ID
			w.opCall(w.console.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: &w.user,
				AccessKeyId: &id, Status: types.StatusTypeActive}))
			return "reactivated " + id
		}
	}
	clear(w.op.deactivated) // those he deactivated are gone
	return "nothing to reactivate"
}

// opSettle undoes the operator's pending edits when faults stop.
func (w *simWorld) opSettle() {
	prev := w.setActor("operator")
	defer w.setActor(prev)
	if w.op.garbled {
		w.logf("        operator: %s", w.opRestore())
	}
	for len(w.op.deactivated) > 0 {
		line := w.opReactivate()
		w.logf("        operator: %s", line)
	}
}

func (w *simWorld) opCall(_ any, err error) {
	if err != nil {
		w.violate("harness", "operator's console call failed: "+err.Error())
	}
}
