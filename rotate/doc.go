// Package rotate rotates IAM users' access keys as a level-triggered
// reconciler: each call reads the user's keys, the rotation's state tag and
// what the store holds, and does only the next steps the evidence allows. A
// crash at any point costs nothing but a re-run, in this process or another;
// no Go value has to survive between calls.
//
//	r, _ := rotate.New(iam.NewFromConfig(cfg), rotate.WithPolicy(rotate.Policy{}))
//	st, err := r.Reconcile(ctx, "app", store) // every night
//	fmt.Println(st)                           // app overlapping AKIA…→AKIA…: old key used 12m0s ago; retires after a quiet 24h0m0s
//
// # Phases
//
//	         key older than MaxAge, or Rotate
//	idle ──────────────────────────────────────► creating ──CreateAccessKey──► created
//	 ▲                                              │ (lease)                     │ store.Put, or read back
//	 │ orphan deleted: store never took it ◄────────┴─────────────────────────────┤
//	 │                                                                            ▼
//	 │                                        verifier passes (a Stager promotes) stored
//	 │                          overlapping ◄──────────────────────────────────────┘
//	 │  evidence: consumers moved │   ▲ old key reactivated by someone
//	 │        deactivate old key  ▼   │
//	 │                           retired ── DeleteAfter since retirement ──► finished
//	 │                                                     delete old key, remove tag
//	 └──── rolled back ◄── rollback (from any phase: recorded, then undone in a safe order)
//
// In overlapping both keys are active. With [ReadOnce] consumers (the
// default) the old key is deactivated only when the new key shows a use after
// the store took it that is not the verifier's own, and the old key has not
// been used for [Policy.Quiet] (counted up to [Policy.LastUseLag] ago, since
// IAM shows a use late); a consumer that read the old key at start and keeps
// using it holds the rotation there, with a Status that says so, for as long as it runs. With
// [ReadEveryUse] the old key retires once [Policy.LastUseLag] has passed
// since the store took the new key with no use of the old one. The retired
// key is deleted [Policy.DeleteAfter] after its recorded retirement; should
// the new key vanish or go inactive, or the store go back to the old key,
// the old key is reactivated at once, and an old key found active again
// starts its quiet window anew.
//
// # Stores
//
// A [Store] takes the new key and reads back which key it holds. After any
// store error, panic or cancellation the rotation reads it back: holds the
// new key, stored; holds the old one, the new key is deleted; cannot tell,
// the new key is kept and the next run decides. No key the store holds as
// current is ever retired or deleted. A [Stager] keeps the new key pending
// until it has verified, so no consumer reads a key that has not worked.
// [WriteOnly] adapts a plain function, with a weaker guarantee.
//
// # One clock
//
// Every time that decides a deletion or a retirement is IAM's: key creation
// dates, last-use dates, and the Date header of IAM's responses, from which
// the times in the state tag are taken. No decision compares this host's
// clock with a time another host wrote, so processes whose clocks are hours
// apart agree. The local clock ([WithClock]) measures only durations: how
// long this process has been inside its lease, and the verifier's pauses.
//
// # Concurrency
//
// Any number of processes may reconcile the same user. IAM offers one
// compare-and-swap: a user holds at most two access keys. A rotation starts
// only when the user has one key, so of any number of CreateAccessKey calls
// racing for it exactly one can succeed; the others get LimitExceeded and
// return [ErrRotationInProgress], the one error concurrent losers get.
//
// Tags are last-writer-wins, so the other steps take a lease recorded in the
// state tag, with an end on IAM's clock. The process that created the new
// key (the only one that knows its secret) holds it while it stores and
// verifies the key, and gives up after half of it; others return
// ErrRotationInProgress until it ends, and only then may a key the store
// never took be deleted, and only if it was never used. A step that must not
// run twice at once (verifying and promoting, retiring, deleting,
// reactivating) claims the lease first in the manner of Fischer's mutual
// exclusion: it reads the tag (it must be as observed), writes its claim,
// waits [WithSettle], and reads the claim back. That holds as long as a
// process writes its claim within half the settle time of reading the
// state, which each checks on its own clock, giving up otherwise. Every
// other write re-reads the tag just before it, and a call gives up its lease
// when it ends. A step that would leave no active key is undone by the
// next observation (the old key is reactivated).
//
// # State
//
// The library keeps exactly one user tag, [StateTag], while a rotation is
// in flight, and removes it when the rotation finishes or rolls back. A
// rotation does not start when the user's own tags leave no room for it
// ([ErrNoRoom]). The tag is not named after a key, so editing a key's
// description in the console (which writes a tag named after the key) cannot
// touch it; a value that does not parse stops the rotation ([ErrBlocked]),
// and nothing is deleted on its strength.
//
// # Eventual consistency
//
// IAM may list a new key late and show a use late. A rotation that may have
// created a key keeps its record until the key is listed or its lease and a
// further consistency margin have passed; when CreateAccessKey is refused
// for the two-key limit while IAM lists one key, the record says when, and
// the rotation waits up to an hour for IAM to list the hidden key. A
// recorded new key that the listing misses is asked about directly
// (GetAccessKeyLastUsed answers for an existing key); while IAM says it
// exists, or within the margin, the record stays, so one listing that
// misses a key never drops the evidence. (An AccessDenied is not taken as
// proof that the key is gone: it also means a missing permission.) Only a
// key created from the consistency margin before the rotation began is
// taken for its new key. Last-use data is trusted only up to
// [Policy.LastUseLag] ago.
package rotate
