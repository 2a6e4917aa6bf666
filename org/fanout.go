package org

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// discover runs Discover for the run op (OpAudit, OpRotate) and reports
// its end to the WithProgress function.
func (sc *Scope) discover(ctx context.Context, op string) (Selection, error) {
	sel, err := sc.Discover(ctx)
	if err != nil {
		sc.progress(Progress{Kind: ProgressDiscovered, Op: op, Err: err})
		return Selection{}, err
	}
	sc.progress(Progress{Kind: ProgressDiscovered, Op: op, Accounts: len(sel.Accounts), Skipped: len(sel.Skipped)})
	return sel, nil
}

// each runs work for every account of the selection with at most the
// Scope's concurrency of accounts at once, each under its own timeout,
// after making sure its credentials can be had (assuming its role once,
// into the cache). The workers take accounts from a shared list, so an
// account that is slow occupies one worker and the others keep taking the
// rest. done is called for every account, from the account's worker: with
// work's error, the AssumeRole error (op OpAssumeRole), or ctx's error for
// an account not started before ctx was done. Each account's start and
// end are reported to the WithProgress function, the end right after done.
func (sc *Scope) each(ctx context.Context, sel Selection, op string,
	work func(ctx context.Context, i int, a Account, cfg aws.Config) error,
	done func(i int, a Account, started, finished time.Time, err error),
) {
	accounts := sel.Accounts
	event := Progress{Op: op, Accounts: len(sel.Accounts), Skipped: len(sel.Skipped)}
	var finished atomic.Int64
	finish := func(i int, a Account, started time.Time, err error) {
		done(i, a, started, sc.s.clock.Now(), err)
		sc.s.logger.DebugContext(ctx, "org: account finished", "account", a.ID, "name", a.Name, "op", op, "error", err != nil)
		e := event
		e.Kind, e.Account, e.Err, e.Done = ProgressAccountFinished, a, err, int(finished.Add(1))
		sc.progress(e)
	}

	next := make(chan int)
	var wg sync.WaitGroup
	for range min(sc.s.concurrency, len(accounts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a := accounts[i]
				started := sc.s.clock.Now()
				sc.s.logger.DebugContext(ctx, "org: account started", "account", a.ID, "name", a.Name, "op", op)
				e := event
				e.Kind, e.Account = ProgressAccountStarted, a
				sc.progress(e)
				finish(i, a, started, sc.one(ctx, i, a, op, work))
			}
		}()
	}
	i := 0
feed:
	for ; i < len(accounts); i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for ; i < len(accounts); i++ {
		finish(i, accounts[i], sc.s.clock.Now(), &AccountError{Op: op, Account: accounts[i], Err: ctx.Err()})
	}
}

// one reaches the account and runs work in it.
func (sc *Scope) one(ctx context.Context, i int, a Account, op string,
	work func(ctx context.Context, i int, a Account, cfg aws.Config) error,
) error {
	if sc.s.accountTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sc.s.accountTimeout)
		defer cancel()
	}
	cfg, err := sc.Config(ctx, a)
	if err != nil {
		return &AccountError{Op: op, Account: a, Err: err}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return &AccountError{Op: OpAssumeRole, Account: a, Err: err}
	}
	return work(ctx, i, a, cfg)
}
