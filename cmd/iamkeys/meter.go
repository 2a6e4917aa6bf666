package main

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamkeys/iamkeys/org"
)

// A meter counts what the command's clients do, for the progress line: every
// attempt (retries included) and every throttling answer, seen by a
// middleware in the Deserialize step, below the SDK's retry loop; and the
// users and keys IAM listed, from the listings' results; and in
// organization mode the accounts, from package org's progress events. It is
// safe for concurrent use.
type meter struct {
	requests  atomic.Int64
	throttled atomic.Int64
	users     atomic.Int64 // users returned by ListUsers
	keyLists  atomic.Int64 // successful ListAccessKeys calls: users whose keys were read

	accounts     atomic.Int64 // accounts in scope (organization mode)
	accountsDone atomic.Int64 // accounts finished, however they went
	jobUsers     atomic.Int64 // users a rotation job took up (StoreFor calls)
}

// isThrottle is the SDK's own notion of a throttling error.
var isThrottle = retry.IsErrorThrottles(retry.DefaultThrottles)

// instrument adds the counting middleware to every client built from cfg.
func (m *meter) instrument(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("iamkeys.meter", m.handle), middleware.Before)
	})
}

func (m *meter) handle(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	m.requests.Add(1)
	if err != nil {
		if isThrottle.IsErrorThrottle(err) == aws.TrueTernary {
			m.throttled.Add(1)
		}
		return out, md, err
	}
	switch r := out.Result.(type) {
	case *iam.ListUsersOutput:
		m.users.Add(int64(len(r.Users)))
	case *iam.ListAccessKeysOutput:
		if !r.IsTruncated { // the user's last page
			m.keyLists.Add(1)
		}
	}
	return out, md, err
}

// accountProgress counts the accounts in scope and those finished, given to
// org.WithProgress. Every account selected finishes once, one whose role
// cannot be assumed included.
func (m *meter) accountProgress(p org.Progress) {
	switch p.Kind {
	case org.ProgressDiscovered:
		m.accounts.Store(int64(p.Accounts))
	case org.ProgressAccountFinished:
		m.accountsDone.Add(1)
	}
}
