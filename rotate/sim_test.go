package rotate_test

// TestSimulation is a deterministic simulation test of the rotate package,
// in the manner of FoundationDB's simulation and TigerBeetle's VOPR: a
// seeded scheduler (math/rand/v2, PCG) interleaves actors over one
// iamkeystest server on a fake clock and checks invariants after every step.
//
// The world (sim_world_test.go): one user whose only key the store holds;
// 2 or 3 processes, each its own Rotator (own IAM client, own local clock
// skewed by up to ±1h, lease 10m, Quiet 2h, LastUseLag 1h, DeleteAfter 6h,
// MaxAge 6h to 30h so that rotations recur), some with an STSVerifier; one
// memstore (plain, loader, or staging) shared by all; 2 to 4 consumers,
// read-once or every-use (every-use only under a ReadEveryUse policy), which
// sign STS GetCallerIdentity with their key; a careful operator (see
// simOperator); IAM's last-use lag up to 50m (under the policy's 1h).
//
// The actors (sim_actors_test.go): Reconcile, Rotate and Rollback (never
// forced) in each process; consumers using, restarting and stopping; the
// operator describing keys, garbling and restoring the state tag, removing
// it by hand, deactivating and reactivating keys. A step is one actor call
// run to completion; between steps the clock moves by minutes to hours and
// running consumers use their key every 20m of it.
//
// Faults (simPlan): in a process's step the plan may fire at its n-th IAM or
// store call: FailNext ServiceFailure or Throttling (not applied),
// FailNextAmbiguous DropConnection or InternalError (applied, answer lost),
// a crash of the process before the call is sent or after it applied (a
// panic through the library; the process restarts with a new Rotator),
// another process's call right before or after it, memstore's FailBefore,
// FailBeforeUnsure, FailAfter and PanicAfter, a Holding that cannot tell,
// and another process acting inside Put while fake time passes within the
// creator's deadline. Clients use aws.NopRetryer: every injected fault
// reaches the library exactly once, and the SDK's real-time backoff never
// runs, so a schedule is the same on every run.
//
// The invariants (sim_invariants_test.go): no-consumer-cut-off,
// store-key-usable, store-key-kept (at every change), keys-accounted,
// one-create-per-attempt, tag-bound, library-errors; and liveness: once
// faults and lags stop, the operator undoes his edits, consumers restart
// and the clock moves, the rotation finishes (one key, the store's, active,
// no state tag) within simLiveRounds rounds.
//
// Environment:
//
//	ROTATE_SIM_SEEDS=N   run seeds 1..N (default simDefaultSeeds)
//	ROTATE_SIM_SEED=S    replay seed S alone, printing its trace
//	ROTATE_SIM_FIRST=F   start at seed F (with ROTATE_SIM_SEEDS: F..F+N-1)
//	ROTATE_SIM_OFF=…     turn off parts of the model (see simOff)

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// simDefaultSeeds: the CI set, 2,000 schedules in about a minute on two
// cores; under the race detector, which slows every round trip, fewer.
func simDefaultSeeds() int {
	if simRace {
		return 300
	}
	return 2000
}

const (
	simFaultySteps = 40
	simLiveRounds  = 24
)

// simOff reports whether ROTATE_SIM_OFF (a comma-separated list) turns off
// a part of the model, to tell which part a failure needs:
//
//	nolisting  no schedule gives ListAccessKeys a lag
func simOff(name string) bool {
	for _, b := range strings.Split(os.Getenv("ROTATE_SIM_OFF"), ",") {
		if strings.TrimSpace(b) == name {
			return true
		}
	}
	return false
}

// A third of the schedules give ListAccessKeys a lag (under the library's
// 5m allowance).
var simListingLagOn = !simOff("nolisting")

func simEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

func TestSimulation(t *testing.T) {
	if s := os.Getenv("ROTATE_SIM_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ROTATE_SIM_SEED=%q: %v", s, err)
		}
		w := simRun(seed, true)
		t.Log("trace of seed " + s + ":\n" + strings.Join(w.trace, "\n"))
		if len(w.violations) > 0 {
			t.Errorf("seed %d broke invariants:\n%s", seed, strings.Join(w.violations, "\n"))
		}
		return
	}
	n := simEnvInt(t, "ROTATE_SIM_SEEDS", simDefaultSeeds())
	first := uint64(simEnvInt(t, "ROTATE_SIM_FIRST", 1))
	if testing.Short() {
		n = min(n, 100)
	}
	start := time.Now()
	seeds := make(chan uint64)
	var mu sync.Mutex
	var failed []*simWorld
	var steps, crashes int
	var wg sync.WaitGroup
	for range max(2, runtime.GOMAXPROCS(0)) * 4 { // the schedules wait on loopback HTTP
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				w := simRun(seed, false)
				mu.Lock()
				steps += w.step
				for _, p := range w.procs {
					crashes += p.crashes
				}
				if len(w.violations) > 0 {
					failed = append(failed, w)
				}
				mu.Unlock()
			}
		}()
	}
	for s := first; s < first+uint64(n); s++ {
		seeds <- s
	}
	close(seeds)
	wg.Wait()
	t.Logf("%d schedules (seeds %d..%d), %d steps, %d process crashes, in %v", n, first, first+uint64(n)-1, steps, crashes, time.Since(start).Round(time.Millisecond))
	if len(failed) == 0 {
		return
	}
	byInv := map[string][]uint64{}
	first0 := failed[0]
	for _, w := range failed {
		if w.seed < first0.seed {
			first0 = w
		}
		for inv := range w.fails {
			byInv[inv] = append(byInv[inv], w.seed)
		}
	}
	var sum []string
	for inv, ss := range byInv {
		sum = append(sum, fmt.Sprintf("  %s: %d seeds, e.g. %v", inv, len(ss), ss[:min(len(ss), 8)]))
	}
	t.Errorf("%d of %d schedules broke invariants:\n%s\nfirst failing seed %d:\n%s\n\ntrace:\n%s\n\nreplay: ROTATE_SIM_SEED=%d go test -run 'TestSimulation$' -count=1 -v ./rotate/",
		len(failed), n, strings.Join(sum, "\n"), first0.seed, strings.Join(first0.violations, "\n"),
		strings.Join(first0.trace, "\n"), first0.seed)
}

// simRun runs one schedule: a faulty phase, then the liveness phase.
func simRun(seed uint64, verbose bool) *simWorld {
	w := newSimWorld(seed)
	defer w.close()
	w.verbose = verbose
	for range simFaultySteps {
		w.step++
		w.advance(w.pickAdvance())
		a := w.pickActor()
		w.plan = simPlan{}
		if a.process != nil && w.rng.IntN(2) == 0 {
			w.plan.n = 1 + w.rng.IntN(12)
		}
		line := w.runActor(a)
		fired := ""
		if w.plan.fired != "" {
			fired = " [" + w.plan.fired + "]"
		}
		w.plan = simPlan{}
		w.logf("%3d %s %-20s%s %s", w.step, w.since(), a.name, fired, line)
		w.logf("        %s", w.snapshot())
		w.checkAll()
	}
	w.live()
	return w
}

// pickAdvance: mostly minutes, sometimes hours.
func (w *simWorld) pickAdvance() time.Duration {
	switch n := w.rng.IntN(20); {
	case n < 13:
		return time.Duration(1+w.rng.IntN(59)) * time.Minute
	case n < 19:
		return time.Duration(60+w.rng.IntN(120)) * time.Minute
	default:
		return time.Duration(3+w.rng.IntN(6)) * time.Hour
	}
}

// live is the liveness phase: faults and lags stop, the operator undoes
// his edits, and in every round the clock moves 90m, every consumer
// restarts and uses its key, and one process (each in turn) reconciles,
// until the rotation has finished.
func (w *simWorld) live() {
	w.faulty = false
	w.srv.SetLastUseLag(0)
	w.lastUseLag = 0
	w.srv.SetListingLag(0)
	w.logf("--- faults and lags stop")
	w.opSettle()
	w.checkAll()
	for _, c := range w.consumers {
		c.running = false // each restarts and uses its key once a round
	}
	for round := range simLiveRounds {
		w.advance(90 * time.Minute)
		for _, c := range w.consumers {
			c.restart()
			c.use(false)
		}
		p := w.procs[round%len(w.procs)] // one process a round, each in turn
		w.step++
		line := w.runActor(simActor{name: p.name + " reconcile", process: p, run: p.reconcile})
		w.logf("%3d %s %-20s %s", w.step, w.since(), p.name+" reconcile", line)
		w.logf("        %s", w.snapshot())
		w.checkAll()
		if w.finished() {
			w.logf("--- finished after %d rounds", round+1)
			return
		}
	}
	w.violate("liveness", fmt.Sprintf("the rotation did not finish within %d rounds after faults stopped: %s", simLiveRounds, w.snapshot()))
}
