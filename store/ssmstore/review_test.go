package ssmstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/rotate"
)

// TestReviewPutAgainReadFails: a Put of a key the parameter holds already
// (an earlier Put applied; the docs promise "a retried Put adds no
// version") whose read fails past the SDK's retries, or whose context is
// cancelled, must not wrap ErrNotStored: the rotation would delete a key
// that consumers read (rotate.ErrNotStored: "the new key may be deleted at
// once").
func TestReviewPutAgainReadFails(t *testing.T) {
	k := key("AKIAFIRSTFIRSTFIRST1")
	for _, staging := range []bool{false, true} {
		for _, fault := range []string{"500", "cancelled"} {
			e := newEnv(t)
			ctx := context.Background()
			var st rotate.Store = e.plain(nil)
			op := "GetParameter"
			if staging {
				s := e.staging(nil)
				if err := s.Put(ctx, k); err != nil {
					t.Fatal(err)
				}
				if err := s.Promote(ctx, k.ID); err != nil {
					t.Fatal(err)
				}
				st, op = s, "GetParameterHistory"
			} else if err := st.Put(ctx, k); err != nil {
				t.Fatal(err)
			}
			putCtx := ctx
			switch fault {
			case "500":
				// The SDK's standard retryer makes three attempts.
				e.srv.FailNextAmbiguous(op, 3, iamkeystest.InternalError)
			case "cancelled":
				c, cancel := context.WithCancel(ctx)
				cancel()
				putCtx = c
			}
			err := st.Put(putCtx, k)
			noSecret(t, err, k)
			if errors.Is(err, rotate.ErrNotStored) {
				t.Errorf("staging %v, %s: Put = %v, wrapping ErrNotStored though consumers read the key", staging, fault, err)
			}
			if h, err := st.Holding(ctx); err != nil || h.Current != k.ID {
				t.Fatalf("Holding = %+v, %v", h, err)
			}
		}
	}
}

// TestReviewPromoteNotPending: Promote makes the pending key current
// (rotate.Stager); a key that is retained in an old version but not
// pending must not be moved back in front of consumers, who would read a
// key the rotation may have deleted.
func TestReviewPromoteNotPending(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.staging(nil)
	a, b := key("AKIAFIRSTFIRSTFIRST1"), key("AKIASECONDSECONDSEC2")
	for _, k := range []string{a.ID, b.ID} {
		if err := s.Put(ctx, key(k)); err != nil {
			t.Fatal(err)
		}
		if err := s.Promote(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Promote(ctx, a.ID); err == nil {
		t.Error("Promote of a key that is neither pending nor current succeeded")
	}
	wantHolding(t, s, rotate.Holding{Current: b.ID})
}

// TestReviewPromoteMovesPendingVersion: Promote moves the current label to
// the version labelled pending, not to a newer one that someone else wrote
// with the same key ID (here with another secret).
func TestReviewPromoteMovesPendingVersion(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	s := e.staging(nil)
	a := key("AKIAFIRSTFIRSTFIRST1")
	if err := s.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ssm.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(param), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		Value: aws.String(`{"AccessKeyId":"AKIAFIRSTFIRSTFIRST1","SecretAccessKey":"someone-elses"}`),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Promote(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.read(s.ConsumerName())
	if want := `{"AccessKeyId":"AKIAFIRSTFIRSTFIRST1","SecretAccessKey":"secret-of-AKIAFIRSTFIRSTFIRST1"}`; got != want {
		t.Error("consumers read another version than the pending one")
	}
}

// TestReviewPromoteNoKey: Promote of an empty key ID is bad input, refused
// before any request (house style), not "promoted" because the current
// version holds no key.
func TestReviewPromoteNoKey(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.ssm.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(param), Type: types.ParameterTypeSecureString, Value: aws.String("not yet a key"),
	}); err != nil {
		t.Fatal(err)
	}
	e.label(1, "current")
	s := e.staging(nil)
	e.srv.ResetCalls()
	if err := s.Promote(ctx, ""); !errors.Is(err, iamkeys.ErrInvalidInput) {
		t.Errorf("Promote(\"\") = %v, want ErrInvalidInput", err)
	}
	if n := len(e.srv.CallCounts()); n != 0 {
		t.Errorf("Promote(\"\") made requests: %v", e.srv.CallCounts())
	}
}

// TestReviewCaseVariantMembers: a value whose key members are spelled in
// another case ("accessKeyId", as some tools write them) must not leave the
// old key beside the new one: encoding/json matches struct fields without
// regard to case and the last member wins, so Holding (and every Go
// consumer that decodes into a struct) would read the old key while
// consumers that index the object read the new one.
func TestReviewCaseVariantMembers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.ssm.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(param), Type: types.ParameterTypeSecureString,
		Value: aws.String(`{"accessKeyId":"AKIAOLDOLDOLDOLDOLD1","secretAccessKey":"old","region":"eu-west-1"}`),
	}); err != nil {
		t.Fatal(err)
	}
	s := e.plain(nil)
	k := key("AKIAFIRSTFIRSTFIRST1")
	if err := s.Put(ctx, k); err != nil {
		t.Fatal(err)
	}
	wantHolding(t, s, rotate.Holding{Current: k.ID})
	got, _ := e.read(param)
	if want := `{"AccessKeyId":"AKIAFIRSTFIRSTFIRST1","SecretAccessKey":"secret-of-AKIAFIRSTFIRSTFIRST1","region":"eu-west-1"}`; got != want {
		t.Errorf("value = %s, want %s", got, want)
	}
}
