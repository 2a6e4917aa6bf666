package rotate_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/memstore"
)

// simBackend is where the world's consumers read their key: memstore, or a
// real store package over the fake's services. Its methods other than store
// read the truth without faults, for consumers and invariants.
type simBackend interface {
	// name is the backend's name in the trace's setup line.
	name() string
	// set makes key current, as a consumer's configuration already holds it.
	set(key iamkeys.NewKey)
	// current is the key a consumer reads now.
	current() iamkeys.NewKey
	// holding is what the backend holds now.
	holding() rotate.Holding
	// store is a process's own handle on the backend (its own clients),
	// without the plan's faults; it implements rotate.Stager when the
	// backend stages, and rotate.Loader when it loads.
	store(p *simProc) rotate.Store
	// staging and loader say which of those it implements.
	staging() bool
	loader() bool
}

// simSMStoreTenths, simCredfileTenths and simSSMStoreTenths are the shares
// of seeds, in tenths, whose store is Secrets Manager through smstore, a
// shared credentials file through credfile, and an SSM parameter through
// ssmstore; the rest use memstore.
const (
	simSMStoreTenths  = 3
	simCredfileTenths = 2
	simSSMStoreTenths = 2
)

// memBackend is a memstore shared by every process.
type memBackend struct {
	mem  *memstore.Store
	load bool
}

func newMemBackend(staging, load bool) *memBackend {
	if staging {
		return &memBackend{mem: memstore.NewStaging().Store, load: true}
	}
	return &memBackend{mem: memstore.New(), load: load}
}

func (b *memBackend) name() string {
	switch {
	case b.mem.Staging():
		return "memstore(staging+loader)"
	case b.load:
		return "memstore(loader)"
	}
	return "memstore(plain)"
}

func (b *memBackend) set(key iamkeys.NewKey)  { b.mem.Set(key) }
func (b *memBackend) current() iamkeys.NewKey { return b.mem.Current() }
func (b *memBackend) staging() bool           { return b.mem.Staging() }
func (b *memBackend) loader() bool            { return b.load }

func (b *memBackend) holding() rotate.Holding {
	h, _ := b.mem.Holding(context.Background())
	return h
}

func (b *memBackend) store(*simProc) rotate.Store {
	if b.mem.Staging() {
		return memstore.Staging{Store: b.mem}
	}
	return b.mem
}

// simStoreFault runs one store call f under the plan's kind: fail before
// applying (saying so, or not), apply and then fail or panic, or run f
// as it is. Any backend gets these faults the same way.
func simStoreFault(method, kind string, f func() error) error {
	switch kind {
	case "fail-before":
		return fmt.Errorf("sim: %s refused: %w", method, rotate.ErrNotStored)
	case "fail-unsure":
		return fmt.Errorf("sim: %s timed out before it reached the store", method)
	}
	err := f()
	switch kind {
	case "fail-after":
		if err == nil {
			err = errors.New("sim: " + method + " timed out after it applied")
		}
	case "panic-after":
		panic("sim: the store panicked after " + method + " applied")
	}
	return err
}
