package org

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// each runs work for every account with at most the Scope's concurrency of
// accounts at once, each under its own timeout, after making sure its
// credentials can be had (assuming its role once, into the cache). The
// workers take accounts from a shared list, so an account that is slow
// occupies one worker and the others keep taking the rest. done is called
// for every account, from the account's worker: with work's error, the
// AssumeRole error (op OpAssumeRole), or ctx's error for an account not
// started before ctx was done.
func (sc *Scope) each(ctx context.Context, accounts []Account, op string,
	work func(ctx context.Context, i int, a Account, cfg aws.Config) error,
	done func(i int, a Account, started, finished time.Time, err error),
) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(sc.s.concurrency, len(accounts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a := accounts[i]
				started := sc.s.clock.Now()
				err := sc.one(ctx, i, a, op, work)
				done(i, a, started, sc.s.clock.Now(), err)
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
		now := sc.s.clock.Now()
		done(i, accounts[i], now, now, &AccountError{Op: op, Account: accounts[i], Err: ctx.Err()})
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
	sc.s.logger.DebugContext(ctx, "org: account started", "account", a.ID, "name", a.Name, "op", op)
	cfg, err := sc.Config(ctx, a)
	if err != nil {
		return &AccountError{Op: op, Account: a, Err: err}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return &AccountError{Op: OpAssumeRole, Account: a, Err: err}
	}
	err = work(ctx, i, a, cfg)
	sc.s.logger.DebugContext(ctx, "org: account finished", "account", a.ID, "name", a.Name, "op", op, "error", err != nil)
	return err
}
