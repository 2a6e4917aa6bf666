package iamkeystest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

func TestFailNext(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "olga")
	s.FailNext("CreateAccessKey", "ConcurrentModification", 1)
	_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("olga")})
	var cm *types.ConcurrentModificationException
	if !errors.As(err, &cm) {
		t.Fatalf("injected: %v", err)
	}
	wantAPIError(t, err, "ConcurrentModification", 409)
	if n := len(s.Keys("olga")); n != 0 {
		t.Errorf("FailNext applied the change: %d keys", n)
	}
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("olga")}); err != nil {
		t.Fatalf("after the fault: %v", err)
	}

	// ServiceFailure is 500 and retried by the standard retryer: two faults
	// are absorbed by three attempts.
	s.ResetCalls()
	s.FailNext("ListUsers", "ServiceFailure", 2)
	if _, err := s.Client().ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("retried ListUsers: %v", err)
	}
	if n := s.Calls("ListUsers"); n != 3 {
		t.Errorf("Calls(ListUsers) = %d, want 3", n)
	}
	s.FailNext("GetUser", "ServiceFailure", 1)
	_, err = c.GetUser(ctx, &iam.GetUserInput{})
	var sf *types.ServiceFailureException
	if !errors.As(err, &sf) {
		t.Fatalf("ServiceFailure: %v", err)
	}
	wantAPIError(t, err, "ServiceFailure", 500)
	if got := s.CallCounts(); got["GetUser"] != 1 || got["ListUsers"] != 3 {
		t.Errorf("CallCounts = %v", got)
	}
}

func TestFailNextAmbiguous(t *testing.T) {
	for _, tt := range []struct {
		name string
		mode iamkeystest.AmbiguousMode
	}{{"drop connection", iamkeystest.DropConnection}, {"internal error", iamkeystest.InternalError}} {
		t.Run(tt.name, func(t *testing.T) {
			s, c, _ := newServer(t)
			ctx := context.Background()
			mustUser(t, s, "pia")
			s.FailNextAmbiguous("CreateAccessKey", 1, tt.mode)
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("pia")})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.mode == iamkeystest.InternalError {
				wantAPIError(t, err, "InternalFailure", 500)
			}
			// The change was applied although the client saw a failure.
			if n := len(s.Keys("pia")); n != 1 {
				t.Errorf("keys after ambiguous failure = %d, want 1", n)
			}

			// With the standard retryer, the retry sees the applied change.
			s.FailNextAmbiguous("CreateUser", 1, tt.mode)
			_, err = s.Client().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("quinn")})
			var exists *types.EntityAlreadyExistsException
			if !errors.As(err, &exists) {
				t.Fatalf("retried CreateUser: %v", err)
			}
			if _, ok := s.User("quinn"); !ok || s.Calls("CreateUser") != 2 {
				t.Errorf("quinn present=%v calls=%d", ok, s.Calls("CreateUser"))
			}
		})
	}
}

// TestThrottleFraction: exactly every (1/f)-th request is throttled, with no
// drift for fractions such as 0.1 that floating point cannot hold exactly.
func TestThrottleFraction(t *testing.T) {
	for _, tt := range []struct {
		f    float64
		want []int // the throttled requests among the first 20, from 1
	}{
		{0.25, []int{4, 8, 12, 16, 20}},
		{0.1, []int{10, 20}},
		{0.3, []int{4, 7, 10, 14, 17, 20}},
		{1, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}},
		{-1, nil},
	} {
		t.Run(fmt.Sprint(tt.f), func(t *testing.T) {
			s, c, _ := newServer(t, iamkeystest.WithThrottleFraction(tt.f))
			ctx := context.Background()
			var throttled []int
			for i := 1; i <= 20; i++ {
				_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
				if err != nil {
					// docs/iam-reference.md §6.1: Throttling is 400 "Rate exceeded".
					ae := wantAPIError(t, err, "Throttling", 400)
					if ae.ErrorMessage() != "Rate exceeded" {
						t.Errorf("message %q", ae.ErrorMessage())
					}
					throttled = append(throttled, i)
				}
			}
			if fmt.Sprint(throttled) != fmt.Sprint(tt.want) {
				t.Errorf("throttled requests %v, want %v", throttled, tt.want)
			}
			if n := s.Calls("ListUsers"); n != 20 {
				t.Errorf("Calls = %d, want 20 (throttled requests count)", n)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	// A bucket of 3 refilled at 1/s: the 4th immediate request is throttled.
	_, c, _ := newServer(t, iamkeystest.WithRateLimit(1, 3))
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := c.GetUser(ctx, &iam.GetUserInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
		t.Fatalf("4th request: %v", err)
	}
}

func TestLatency(t *testing.T) {
	s, c, _ := newServer(t, iamkeystest.WithLatency(5*time.Millisecond))
	ctx := context.Background()
	t0 := time.Now()
	if _, err := c.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 5*time.Millisecond {
		t.Errorf("answered in %v, want at least 5ms", d)
	}
	s.SetLatency(0)
}

func TestConcurrentUse(t *testing.T) {
	s, c, clock := newServer(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "user" + string(rune('a'+i))
			if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
				t.Error(err)
				return
			}
			for range 2 {
				if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}); err != nil {
					t.Error(err)
				}
			}
			if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}); err == nil {
				t.Error("third key accepted")
			}
			clock.Advance(time.Second)
			_ = s.Users()
			_ = s.Keys(name)
			_ = s.CallCounts()
			if _, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(s.Users()); n != 9 {
		t.Errorf("%d users, want 9", n)
	}
}
